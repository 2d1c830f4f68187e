package redisslot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkHotKeyWaits is the hot-key case: one key with limit 8, two
// Limiters (each on its own client, as two instances), 16 callers on each
// that Acquire, hold the slot for holdFor, and release, b.N acquires in
// all. It reports the acquires per second, the round trips per acquire
// (and its release, its renewals), the spread of the time each
// Acquire waited (p50, p99, max), and the share of acquires overtaken: an
// acquire is overtaken when a caller that called Acquire at least a
// millisecond later got its slot first.
//
// It uses only the API that the design before the shared queue had too,
// so the same file runs against both: build this package's test binary at
// each commit and run both back to back (see the README for the command).
func BenchmarkHotKeyWaits(b *testing.B) {
	const (
		limit     = 8
		instances = 2
		callers   = 16 // per instance
		holdFor   = time.Millisecond
	)
	srv := redistest.Shared(b)
	prefix := fmt.Sprintf("bench:hotwaits:%d:", time.Now().UnixNano())
	var ls []*redisslot.Limiter
	var counts []*redistest.Counter
	for range instances {
		c := redis.NewClient(srv.Options())
		b.Cleanup(func() { _ = c.Close() })
		n := &redistest.Counter{}
		c.AddHook(n)
		counts = append(counts, n)
		l := redisslot.New(c, redisslot.Options{Prefix: prefix, Lease: time.Minute})
		b.Cleanup(func() { _ = l.Close() })
		ls = append(ls, l)
	}
	ctx := context.Background()
	for _, l := range ls { // load the scripts
		_, rel, err := l.Acquire(ctx, "hot", limit)
		if err != nil {
			b.Fatal(err)
		}
		rel()
	}
	type span struct{ start, end time.Time }
	spans := make([]span, 0, b.N)
	var mu sync.Mutex
	var left atomic.Int64
	left.Store(int64(b.N))
	errs := make(chan error, instances*callers)
	var wg sync.WaitGroup
	for _, n := range counts {
		n.Reset()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range instances * callers {
		l := ls[i%instances]
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				start := time.Now()
				_, rel, err := l.Acquire(ctx, "hot", limit)
				if err != nil {
					errs <- err
					return
				}
				end := time.Now()
				time.Sleep(holdFor)
				rel()
				mu.Lock()
				spans = append(spans, span{start, end})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	waits := make([]time.Duration, len(spans))
	for i, s := range spans {
		waits[i] = s.end.Sub(s.start)
	}
	slices.Sort(waits)
	at := func(q float64) float64 {
		return float64(waits[min(len(waits)-1, int(q*float64(len(waits))))]) / float64(time.Millisecond)
	}
	// Overtaken: sorted by start, an acquire whose end comes after the
	// earliest end among those that started a millisecond or more later.
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	overtaken := 0
	var minEnd time.Time
	j := len(spans)
	for i := len(spans) - 1; i >= 0; i-- {
		for j > 0 && spans[j-1].start.Sub(spans[i].start) >= time.Millisecond {
			j--
			if minEnd.IsZero() || spans[j].end.Before(minEnd) {
				minEnd = spans[j].end
			}
		}
		if !minEnd.IsZero() && minEnd.Before(spans[i].end) {
			overtaken++
		}
	}
	var trips int64
	for _, n := range counts {
		trips += n.RoundTrips()
	}
	b.ReportMetric(float64(trips)/float64(b.N), "round-trips/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acquires/s")
	b.ReportMetric(at(0.5), "wait-p50-ms")
	b.ReportMetric(at(0.99), "wait-p99-ms")
	b.ReportMetric(at(1), "wait-max-ms")
	b.ReportMetric(100*float64(overtaken)/float64(len(spans)), "overtaken-%")
}
