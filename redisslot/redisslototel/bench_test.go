package redisslototel_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/redisslototel"
	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// acquireRelease returns one take and free of a free slot of "user:1" on a
// Limiter of its own on client, instrumented when otel is set, warmed up.
func acquireRelease(b *testing.B, client *redis.Client, prefix string, otel bool) func() {
	l := redisslot.New(client, redisslot.Options{Prefix: prefix, Lease: time.Minute})
	b.Cleanup(func() { _ = l.Close() })
	if otel {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		if err := redisslototel.InstrumentMetrics(l, redisslototel.WithMeterProvider(mp)); err != nil {
			b.Fatal(err)
		}
	}
	run := func() {
		_, rel, err := l.TryAcquire(context.Background(), "user:1", 8)
		if err != nil {
			b.Fatal(err)
		}
		rel()
	}
	for range 10 { // load the scripts, open the connection
		run()
	}
	return run
}

// BenchmarkAcquireRelease takes and frees a free slot, one call at a time,
// with no hook and with the OpenTelemetry hook (an SDK provider with a
// ManualReader), on two Limiters against one redis-server. The
// sub-benchmarks give each one's time and allocations; "interleaved"
// alternates the two so that both see the same load, and reports their
// medians and the ratio otel/none.
func BenchmarkAcquireRelease(b *testing.B) {
	client := startRedis(b)
	none := acquireRelease(b, client, "none:", false)
	otel := acquireRelease(b, client, "otel:", true)
	for _, bc := range []struct {
		name string
		run  func()
	}{{"hook=none", none}, {"hook=otel", otel}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.run()
			}
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		var tNone, tOtel []time.Duration
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			none()
			mid := time.Now()
			otel()
			tNone, tOtel = append(tNone, mid.Sub(start)), append(tOtel, time.Since(mid))
		}
		mNone, mOtel := median(tNone), median(tOtel)
		b.ReportMetric(float64(mNone)/1e3, "none-p50-µs")
		b.ReportMetric(float64(mOtel)/1e3, "otel-p50-µs")
		b.ReportMetric(float64(mOtel)/float64(mNone), "otel/none")
	})
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkRefusedCall measures the hook's own cost without Redis: a
// TryAcquire on a closed Limiter, refused at once, with no hook and with
// the OpenTelemetry hook, which records one acquire.duration point.
func BenchmarkRefusedCall(b *testing.B) {
	for _, otel := range []bool{false, true} {
		name := "hook=none"
		if otel {
			name = "hook=otel"
		}
		b.Run(name, func(b *testing.B) {
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
			b.Cleanup(func() { _ = c.Close() })
			l := redisslot.New(c, redisslot.Options{})
			if otel {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
				if err := redisslototel.InstrumentMetrics(l, redisslototel.WithMeterProvider(mp)); err != nil {
					b.Fatal(err)
				}
			}
			_ = l.Close()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, rel, err := l.TryAcquire(ctx, "user:1", 1); err == nil { // closed: it fails
					rel()
				}
			}
		})
	}
}
