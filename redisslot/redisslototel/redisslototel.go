// Package redisslototel records the metrics of a [redisslot.Limiter] with
// OpenTelemetry: how many slots it holds and how many calls wait, per class
// of key, how long acquiring took and how it ended, how long slots were held
// and why each ended, and how many leases were lost.
//
//	l := redisslot.New(rdb, redisslot.Options{})
//	if err := redisslototel.InstrumentMetrics(l); err != nil {
//		return err
//	}
//
// It is a separate module so that redisslot itself depends on no metrics
// library; it listens to the Limiter through [redisslot.Limiter.AddHook].
package redisslototel

import (
	"context"
	"errors"

	"github.com/ctxguard/release/redisslot"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the meter the instruments are
// made with.
const ScopeName = "github.com/ctxguard/release/redisslot/redisslototel"

// InstrumentMetrics adds to l a hook that records these instruments, each
// with the attribute redisslot.key_class and, where listed, one more:
//
//	redisslot.slots.held        {slot}    UpDownCounter  slots l holds now
//	redisslot.waiters           {waiter}  UpDownCounter  Acquire calls waiting on l now
//	redisslot.acquire.duration  s         Histogram      one per TryAcquire or Acquire call; redisslot.result
//	redisslot.slot.duration     s         Histogram      how long each slot was held; redisslot.end
//	redisslot.leases.lost       {slot}    Counter        slots whose lease was lost
//
// redisslot.result is "acquired", "fallback" (a slot from the fallback
// share, Redis being unreachable: see redisslot.Options.Fallback), "full",
// "queue_full", "canceled" (ctx done, any cause), "closed" or "error";
// redisslot.end is "released" (the
// caller's release), "canceled" (the acquiring ctx ended: a hang-up or a
// deadline), "lease_lost" or "closed" (see [redisslot.AcquireResult] and
// [redisslot.SlotEnd]). Raw keys never appear: see [WithKeyClass].
//
// Call it right after [redisslot.New], before l is used: the counts of
// held slots and waiters are kept from the hook's events, so slots taken
// before would be counted down but never up. Calling it twice on one
// Limiter counts everything twice.
//
// It returns the errors of making the instruments, joined; it then adds no
// hook. It panics, with a message starting "redisslototel:", if l is nil.
func InstrumentMetrics(l *redisslot.Limiter, opts ...Option) error {
	if l == nil {
		panic("redisslototel: InstrumentMetrics called with a nil Limiter")
	}
	c := config{classOf: DefaultKeyClass}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	m, err := newMetrics(c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(version)))
	if err != nil {
		return err
	}
	m.classes = newClasses(c.classOf)
	l.AddHook(m.hook())
	return nil
}

// version is this module's version, given to the meter.
const version = "0.1.0"

// metrics are the instruments and the classes of one InstrumentMetrics.
type metrics struct {
	held, waiters      metric.Int64UpDownCounter
	acquired, heldTime metric.Float64Histogram
	lost               metric.Int64Counter
	classes            *classes
}

// durationBounds are the histogram bucket boundaries, in seconds: from
// 100 µs (a Redis round trip on one host) to 60 s (a long wait or a long
// request), about three per decade.
var durationBounds = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

func newMetrics(meter metric.Meter) (*metrics, error) {
	var m metrics
	var errs [5]error
	m.held, errs[0] = meter.Int64UpDownCounter("redisslot.slots.held",
		metric.WithUnit("{slot}"),
		metric.WithDescription("Slots this Limiter holds now."))
	m.waiters, errs[1] = meter.Int64UpDownCounter("redisslot.waiters",
		metric.WithUnit("{waiter}"),
		metric.WithDescription("Acquire calls waiting for a slot on this Limiter now."))
	m.acquired, errs[2] = meter.Float64Histogram("redisslot.acquire.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of TryAcquire and Acquire calls, waiting included, by result."),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	m.heldTime, errs[3] = meter.Float64Histogram("redisslot.slot.duration",
		metric.WithUnit("s"),
		metric.WithDescription("How long slots were held, by how they ended."),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	m.lost, errs[4] = meter.Int64Counter("redisslot.leases.lost",
		metric.WithUnit("{slot}"),
		metric.WithDescription("Slots whose lease was lost while held."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &m, nil
}

// hook returns the hook that records l's events into m.
func (m *metrics) hook() redisslot.Hook {
	ctx := context.Background()
	return redisslot.Hook{
		AcquireEnded: func(e redisslot.AcquireEvent) {
			c := m.classes.of(e.Key)
			m.acquired.Record(ctx, e.Duration.Seconds(), c.result(e.Result)...)
			if e.Result == redisslot.AcquireAcquired || e.Result == redisslot.AcquireFallback {
				m.held.Add(ctx, 1, c.class...)
			}
		},
		SlotEnded: func(e redisslot.SlotEvent) {
			c := m.classes.of(e.Key)
			m.held.Add(ctx, -1, c.class...)
			m.heldTime.Record(ctx, e.Held.Seconds(), c.end(e.End)...)
		},
		LeaseLost: func(e redisslot.LeaseLostEvent) {
			m.lost.Add(ctx, 1, m.classes.of(e.Key).class...)
		},
		WaiterJoined: func(key string) { m.waiters.Add(ctx, 1, m.classes.of(key).class...) },
		WaiterLeft:   func(key string) { m.waiters.Add(ctx, -1, m.classes.of(key).class...) },
	}
}
