package slotshttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
	"github.com/ctxguard/release/slots/slotshttp"
)

// handWritten is the handler a user writes without slotshttp, the
// reference the middleware is measured against: the same slot, taken the
// same way, the same answers.
func handWritten(l slots.Limiter, key func(*http.Request) (string, int), wait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, limit := key(r)
		var ctx context.Context
		var release func()
		var err error
		if wait == 0 {
			ctx, release, err = l.TryAcquire(r.Context(), k, limit)
		} else {
			ctx, release, err = slots.AcquireWithin(r.Context(), l, k, limit, wait)
		}
		if err != nil {
			switch {
			case r.Context().Err() != nil: // the client is gone
			case errors.Is(err, slots.ErrFull):
				w.Header().Set("Retry-After", "1")
				http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			default:
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			}
			return
		}
		defer release()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// A design makes the limited handler under test.
type design func(l slots.Limiter, key func(*http.Request) (string, int), wait time.Duration, next http.Handler) http.Handler

var designs = []struct {
	name string
	make design
}{
	{"slotshttp", func(l slots.Limiter, key func(*http.Request) (string, int), wait time.Duration, next http.Handler) http.Handler {
		return slotshttp.Limit(l, key, slotshttp.Options{Wait: wait})(next)
	}},
	{"hand", handWritten},
}

// fixedKey is the key func of the benchmarks: one user, limit 4.
func fixedKey(*http.Request) (string, int) { return "user:42", 4 }

// discard is a ResponseWriter that keeps only the status code.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header       { return d.h }
func (*discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)      { d.code = code }

// serveOnce returns a function that serves one request through the
// handler that mk makes, on a request context that is cancelable, as
// net/http's is. Every request gets its slot and is served: one that is
// not (an earlier request's slot was never freed) fails tb at once, so
// that a handler that keeps its slots fails rather than waits.
func serveOnce(tb testing.TB, mk design, wait time.Duration) func() {
	l := slots.NewLocal(slots.LocalOptions{})
	tb.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := mk(l, fixedKey, wait, next)
	r := httptest.NewRequestWithContext(ctx, "GET", "/", nil)
	w := &discard{h: http.Header{}}
	return func() {
		w.code = 0
		h.ServeHTTP(w, r)
		if w.code != http.StatusNoContent {
			tb.Fatalf("request answered %d; want %d: an earlier request's slot was not freed", w.code, http.StatusNoContent)
		}
	}
}

// BenchmarkLimit serves a request that gets its slot at once through the
// middleware and through the same handler written by hand, taking the
// slot with TryAcquire (wait=0) and with AcquireWithin (wait=2s).
func BenchmarkLimit(b *testing.B) {
	for _, wait := range []time.Duration{0, 2 * time.Second} {
		for _, d := range designs {
			b.Run("wait="+wait.String()+"/design="+d.name, func(b *testing.B) {
				b.ReportAllocs()
				serve := serveOnce(b, d.make, wait)
				for b.Loop() {
					serve()
				}
			})
		}
	}
}

// TestLimitAllocatesAsTheHandWrittenHandler pins the middleware's
// allocations per request served to those of the same handler written by
// hand: it adds none.
func TestLimitAllocatesAsTheHandWrittenHandler(t *testing.T) {
	for _, wait := range []time.Duration{0, 2 * time.Second} {
		var got [2]float64
		for i, d := range designs {
			got[i] = testing.AllocsPerRun(1000, serveOnce(t, d.make, wait))
		}
		t.Logf("wait %v: %v allocations per request through slotshttp, %v by hand", wait, got[0], got[1])
		if got[0] > got[1] {
			t.Errorf("wait %v: slotshttp allocates %v times per request; want at most the hand-written handler's %v", wait, got[0], got[1])
		}
	}
}
