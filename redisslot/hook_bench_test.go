package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// hookedOp returns the acquire-and-release op of a Limiter of its own on
// srv, with hooks added, scripts loaded and connections open.
func hookedOp(b *testing.B, srv *redistest.Server, hooks ...redisslot.Hook) op {
	c, _ := benchClient(b, srv)
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(b), Lease: time.Minute})
	b.Cleanup(func() { _ = l.Close() })
	for _, h := range hooks {
		l.AddHook(h)
	}
	run := redisslotOp(l, "k")
	for range 10 {
		if err := run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return run
}

// BenchmarkAcquireReleaseHook takes and frees a free slot with no hook and
// with a hook that does nothing, on two Limiters whose ops alternate, so
// that both see the same load; it reports each one's median and the ratio
// of the medians (noop/none). Allocations are those of the pair.
func BenchmarkAcquireReleaseHook(b *testing.B) {
	srv := redistest.Shared(b)
	none, noop := hookedOp(b, srv), hookedOp(b, srv, noopHook)
	ctx := context.Background()
	var sNone, sNoop []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range []struct {
			run op
			s   *[]time.Duration
		}{{none, &sNone}, {noop, &sNoop}} {
			start := time.Now()
			if err := r.run(ctx); err != nil {
				b.Fatal(err)
			}
			*r.s = append(*r.s, time.Since(start))
		}
	}
	pNone, pNoop := quantile(sNone, 0.5), quantile(sNoop, 0.5)
	b.ReportMetric(us(pNone), "none-p50-µs")
	b.ReportMetric(us(pNoop), "noop-p50-µs")
	b.ReportMetric(float64(pNoop)/float64(pNone), "noop/none")
}
