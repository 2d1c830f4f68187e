package release_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// maxRequestGuards is the most guards a request makes in these benchmarks;
// a gateway takes 2 to 4 per request.
const maxRequestGuards = 4

// requestGuards are the guard counts per request the benchmarks compare.
var requestGuards = []int{1, maxRequestGuards}

// benchPerGuardCount runs bench as guards=0/none, the request alone, and
// then for each design with each count in requestGuards.
func benchPerGuardCount(b *testing.B, bench func(b *testing.B, guards int, wrap wrapFunc)) {
	b.Run("guards=0/none", func(b *testing.B) { bench(b, 0, nil) })
	for _, guards := range requestGuards {
		for _, d := range designs {
			b.Run(fmt.Sprintf("guards=%d/%s", guards, d.name), func(b *testing.B) {
				bench(b, guards, d.wrap)
			})
		}
	}
}

// BenchmarkRequest measures guards inside real requests: a net/http server
// on the loopback interface, and one keep-alive client that sends requests
// one after another. The handler makes guards on the request's context,
// releases them, and answers with an empty 200.
//
// Client and server run in the benchmark's process, so B/op and allocs/op
// count both ends of a round trip, and cpu-ns/req is the process's user and
// system CPU time per request. Each row does the same client work, so what a
// row costs beyond guards=0/none is what its guards cost.
func BenchmarkRequest(b *testing.B) {
	benchPerGuardCount(b, func(b *testing.B, guards int, wrap wrapFunc) {
		benchRequests(b, guards, wrap, nil)
	})
}

// BenchmarkRequestWaiting is BenchmarkRequest with a handler that, between
// making its guards and releasing them, waits for an upstream as a gateway
// does: it hands the call to a goroutine standing in for the upstream and
// waits for its answer or for the request's context to end. Its guards
// are made while the handler runs and released after it has waited, so a
// watcher's goroutine starts, selects on the context and parks before the
// release, as it does in a gateway.
func BenchmarkRequestWaiting(b *testing.B) {
	benchPerGuardCount(b, func(b *testing.B, guards int, wrap wrapFunc) {
		calls, answers := make(chan struct{}), make(chan struct{})
		go func() {
			for range calls {
				answers <- struct{}{}
			}
		}()
		defer close(calls)
		benchRequests(b, guards, wrap, func(ctx context.Context) {
			calls <- struct{}{}
			select {
			case <-answers:
			case <-ctx.Done():
				<-answers
			}
		})
	})
}

// benchRequests times a keep-alive client's requests to a server whose
// handler makes guards guards with wrap on the request's context, calls
// wait with that context unless it is nil, and releases them.
func benchRequests(b *testing.B, guards int, wrap wrapFunc, wait func(context.Context)) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rels [maxRequestGuards]func()
		ctx := r.Context()
		for i := range guards {
			rels[i] = wrap(ctx, noop)
		}
		if wait != nil {
			wait(ctx)
		}
		for i := guards - 1; i >= 0; i-- {
			rels[i]()
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0") // loopback only, whatever httptest's flags say
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	roundTrip := func() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("request got status %d; want %d", resp.StatusCode, http.StatusOK)
		}
	}
	roundTrip() // open the connection before timing

	b.ReportAllocs()
	cpu0, ok := processCPU()
	for b.Loop() {
		roundTrip()
	}
	if cpu1, ok1 := processCPU(); ok && ok1 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/req")
	}
}

// pendingStreams is how many open streams BenchmarkPendingStreams holds.
const pendingStreams = 10_000

// BenchmarkPendingStreams holds 10,000 open streams, as a server does while
// its handlers wait on upstreams, and reports what each stream costs while it
// waits: live heap and stack bytes, and goroutines. Each stream has a context
// of its own, derived from the server's as net/http derives a request's, and
// guards pending on it. guards=0/none is the stream's context alone.
func BenchmarkPendingStreams(b *testing.B) {
	benchPerGuardCount(b, func(b *testing.B, guards int, wrap wrapFunc) {
		server, stop := context.WithCancel(context.Background())
		defer stop()
		cancels := make([]context.CancelFunc, pendingStreams)
		rels := make([]func(), pendingStreams*guards)
		var bytes, goroutines int64
		b.ReportAllocs()
		for b.Loop() {
			by, g := measureHeld(func() {
				for i := range cancels {
					ctx, cancel := context.WithCancel(server)
					cancels[i] = cancel
					for j := range guards {
						rels[i*guards+j] = wrap(ctx, noop)
					}
				}
			}, func() {
				for i, rel := range rels {
					rel()
					rels[i] = nil
				}
				for i, cancel := range cancels {
					cancel()
					cancels[i] = nil
				}
			})
			bytes += by
			goroutines += g
		}
		n := float64(b.N) * pendingStreams
		b.ReportMetric(float64(bytes)/n, "B/stream")
		b.ReportMetric(float64(goroutines)/n, "goroutines/stream")
	})
}
