package release_test

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/ctxguard/release"
)

// A wrapFunc makes a release guard: it returns a function that runs fn, and
// ctx runs fn if it is done first. The designs below are the ones WrapOnDone
// is measured against.
type wrapFunc func(ctx context.Context, fn func()) (release func())

// watcher is the design WrapOnDone replaces: sync.Once plus a quit channel
// that one goroutine per guard selects on alongside ctx.Done().
func watcher(ctx context.Context, fn func()) func() {
	var once sync.Once
	quit := make(chan struct{})
	run := func() {
		close(quit)
		fn()
	}
	go func() {
		select {
		case <-ctx.Done():
			once.Do(run)
		case <-quit:
		}
	}()
	return func() { once.Do(run) }
}

// afterFuncOnce is what a careful user writes by hand: context.AfterFunc
// plus sync.Once.
func afterFuncOnce(ctx context.Context, fn func()) func() {
	var once sync.Once
	stop := context.AfterFunc(ctx, func() { once.Do(fn) })
	return func() {
		stop()
		once.Do(fn)
	}
}

// bareAfterFunc registers fn with context.AfterFunc and releases by stopping
// it, running fn if it had not started: exactly once, but a release does not
// wait for a run that ctx started, and repeated releases do not wait either.
// The closure that adapts stop to a func() is all it adds to the standard
// library; the wrap-and-release benchmarks leave out even that.
func bareAfterFunc(ctx context.Context, fn func()) func() {
	stop := context.AfterFunc(ctx, fn)
	return func() {
		if stop() {
			fn()
		}
	}
}

// A design is one way to make a release guard.
type design struct {
	name string
	wrap wrapFunc
	// cycle, if set, wraps and releases once without a release function.
	cycle func(ctx context.Context)
}

var designs = []design{
	{name: "WrapOnDone", wrap: release.WrapOnDone},
	{name: "watcher", wrap: watcher},
	{name: "AfterFunc+Once", wrap: afterFuncOnce},
	{name: "bare AfterFunc", wrap: bareAfterFunc, cycle: func(ctx context.Context) {
		// The standard library's floor: no closure around stop.
		if context.AfterFunc(ctx, noop)() {
			noop()
		}
	}},
}

func noop() {}

// wrapAndRelease makes a guard on ctx and releases it.
func (d design) wrapAndRelease(ctx context.Context) {
	if d.cycle != nil {
		d.cycle(ctx)
		return
	}
	d.wrap(ctx, noop)()
}

// benchCycles times wrapAndRelease on ctx for every design.
func benchCycles(b *testing.B, ctx context.Context) {
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.wrapAndRelease(ctx)
			}
		})
	}
}

// BenchmarkShared wraps and releases on one long-lived context, as a server
// does with a guard on a context that outlives the request.
func BenchmarkShared(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchCycles(b, ctx)
}

// BenchmarkBackground wraps and releases on a context that is never done.
func BenchmarkBackground(b *testing.B) {
	benchCycles(b, context.Background())
}

// BenchmarkPerRequest runs requests in parallel, as a gateway does: each
// gets a fresh context, guards a user slot and an account slot on it,
// releases both, and ends the context.
func BenchmarkPerRequest(b *testing.B) {
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					ctx, cancel := context.WithCancel(context.Background())
					user := d.wrap(ctx, noop)
					account := d.wrap(ctx, noop)
					account()
					user()
					cancel()
				}
			})
		})
	}
}

// BenchmarkPending holds guards that have not been released on one
// context and reports what each costs while it waits: live heap and stack
// bytes, and goroutines.
func BenchmarkPending(b *testing.B) {
	const pending = 10_000
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rels := make([]func(), pending)
			var bytes, goroutines int64
			b.ReportAllocs()
			for b.Loop() {
				by, g := measureHeld(func() {
					for i := range rels {
						rels[i] = d.wrap(ctx, noop)
					}
				}, func() {
					for i, rel := range rels {
						rel()
						rels[i] = nil
					}
				})
				bytes += by
				goroutines += g
			}
			n := float64(b.N) * pending
			b.ReportMetric(float64(bytes)/n, "B/guard")
			b.ReportMetric(float64(goroutines)/n, "goroutines/guard")
		})
	}
}

// measureHeld runs hold, which makes values that stay live, then free, which
// lets them go, and returns the live heap and stack bytes and the goroutines
// that hold added. It returns once the goroutines hold started have exited.
func measureHeld(hold, free func()) (bytes, goroutines int64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	hold()
	settle()
	runtime.GC()
	runtime.ReadMemStats(&after)
	goroutines = int64(runtime.NumGoroutine() - g0)
	bytes = int64(after.HeapAlloc+after.StackInuse) - int64(before.HeapAlloc+before.StackInuse)
	free()
	for runtime.NumGoroutine() > g0 { // watchers exiting
		runtime.Gosched()
	}
	return bytes, goroutines
}

// settle yields until no goroutine is waiting to run, so that goroutines
// just started have reached the point where they block, and hold what they
// hold while blocked. Without the metric (before Go 1.26) it returns at once.
func settle() {
	runnable := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	for range 1_000_000 {
		metrics.Read(runnable)
		if runnable[0].Value.Kind() != metrics.KindUint64 || runnable[0].Value.Uint64() == 0 {
			return
		}
		runtime.Gosched()
	}
}

// fanOut makes n guards with d on a new context, each calling wg.Done, and
// returns the context's cancel function.
func fanOut(d design, n int, wg *sync.WaitGroup) (cancel func()) {
	ctx, cancel := context.WithCancel(context.Background())
	wg.Add(n)
	done := wg.Done
	for range n {
		d.wrap(ctx, done)
	}
	return cancel
}

const fanOutGuards = 1_000

// BenchmarkCancelFanOut holds 1,000 guards on one context and times the
// context's cancellation until every fn has run.
func BenchmarkCancelFanOut(b *testing.B) {
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			var wg sync.WaitGroup
			b.ReportAllocs()
			for range b.N {
				b.StopTimer()
				cancel := fanOut(d, fanOutGuards, &wg)
				b.StartTimer()
				cancel()
				wg.Wait()
			}
		})
	}
}

// BenchmarkWrapThenCancel times a fan-out's whole life: 1,000 guards made on
// one context, then the context's cancellation until every fn has run. A
// watcher pays for its goroutines when it wraps; context.AfterFunc starts
// them when ctx is done.
func BenchmarkWrapThenCancel(b *testing.B) {
	for _, d := range designs {
		b.Run(d.name, func(b *testing.B) {
			var wg sync.WaitGroup
			b.ReportAllocs()
			for b.Loop() {
				cancel := fanOut(d, fanOutGuards, &wg)
				cancel()
				wg.Wait()
			}
		})
	}
}

func noopCause(error) {}

// BenchmarkCause wraps and releases with WrapOnDoneCause beside WrapOnDone,
// on one long-lived context and on a context that is never done.
func BenchmarkCause(b *testing.B) {
	shared, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"Shared", shared}, {"Background", context.Background()}} {
		b.Run(c.name+"/WrapOnDone", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				release.WrapOnDone(c.ctx, noop)()
			}
		})
		b.Run(c.name+"/WrapOnDoneCause", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				release.WrapOnDoneCause(c.ctx, noopCause)()
			}
		})
	}
}
