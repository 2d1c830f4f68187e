package redisslot_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// offlineLimiter returns a Limiter on a client that is never used: New
// does not contact Redis, and the emit path does not either.
func offlineLimiter(tb testing.TB) *redisslot.Limiter {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	l := redisslot.New(c, redisslot.Options{})
	tb.Cleanup(func() {
		_ = l.Close()
		_ = c.Close()
	})
	return l
}

// noopHook has every field set, to a function that does nothing.
var noopHook = redisslot.Hook{
	AcquireEnded: func(redisslot.AcquireEvent) {},
	SlotEnded:    func(redisslot.SlotEvent) {},
	LeaseLost:    func(redisslot.LeaseLostEvent) {},
	WaiterJoined: func(string) {},
	WaiterLeft:   func(string) {},
	RenewalRound: func(redisslot.RenewalEvent) {},
}

// The events of a Limiter allocate nothing, with no hook and with a hook
// that keeps nothing: unused, the hooks cost an atomic load per event. The
// exception is a renewal round's event, once per Lease/3, which counts its
// distinct keys in a map when a hook listens.
func TestEmitAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		hooks   []redisslot.Hook
		renewal bool
	}{
		{"no hook", nil, true},
		{"noop hook", []redisslot.Hook{noopHook}, false},
		{"two noop hooks", []redisslot.Hook{noopHook, noopHook}, false},
	} {
		l := offlineLimiter(t)
		for _, h := range tc.hooks {
			l.AddHook(h)
		}
		emit := redisslot.EmitAll(l, redisslot.ErrFull, tc.renewal)
		if got := testing.AllocsPerRun(100, emit); got != 0 {
			t.Errorf("%s: one event of each kind allocates %v times; want 0", tc.name, got)
		}
	}
}

// BenchmarkEmit measures one event of each kind (six in all), with no hook
// and with a hook that does nothing.
func BenchmarkEmit(b *testing.B) {
	for _, tc := range []struct {
		name  string
		hooks []redisslot.Hook
	}{
		{"no-hook", nil},
		{"noop-hook", []redisslot.Hook{noopHook}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			l := offlineLimiter(b)
			for _, h := range tc.hooks {
				l.AddHook(h)
			}
			emit := redisslot.EmitAll(l, redisslot.ErrFull, true)
			b.ReportAllocs()
			for b.Loop() {
				emit()
			}
		})
	}
}

// AddHook may be called while events are emitted on other goroutines; each
// hook hears every event after it was added.
func TestAddHookWhileEventsAreEmitted(t *testing.T) {
	l := offlineLimiter(t)
	emit := redisslot.EmitAll(l, redisslot.ErrFull, true)
	stopped, done := make(chan struct{}), make(chan struct{})
	stop := sync.OnceFunc(func() { close(stopped) })
	t.Cleanup(stop) // the emitter ends even when the test fails
	go func() {
		defer close(done)
		for {
			select {
			case <-stopped:
				return
			default:
				emit()
			}
		}
	}()
	var counts [10]atomic.Int64
	for i := range counts {
		heard := make(chan struct{})
		var once sync.Once
		l.AddHook(redisslot.Hook{AcquireEnded: func(redisslot.AcquireEvent) {
			counts[i].Add(1)
			once.Do(func() { close(heard) })
		}})
		// The emitter runs beside the next AddHook.
		recv(t, heard, waitAtOnce, fmt.Sprintf("hook %d heard nothing", i))
	}
	stop()
	recv(t, done, waitAtOnce, "the emitter did not stop")
	before := make([]int64, len(counts))
	for i := range counts {
		before[i] = counts[i].Load()
	}
	emit()
	for i := range counts {
		if got := counts[i].Load() - before[i]; got != 1 {
			t.Errorf("hook %d heard %d of the acquire events emitted after all were added; want 1", i, got)
		}
	}
}
