package release_test

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// goid returns the calling goroutine's id, read from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := bytes.TrimPrefix(buf[:runtime.Stack(buf[:], false)], []byte("goroutine "))
	id, err := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	if err != nil {
		panic(err)
	}
	return id
}

// An ordering is one way for release and the end of ctx to meet.
type ordering int

const (
	cancelThenRelease ordering = iota // ctx runs fn; a later release waits for nothing
	releaseThenCancel                 // release runs fn; ctx's end does nothing
	releaseInFlight                   // release is called while ctx's run of fn is in flight
	freeRace                          // both at once, on two goroutines
	orderings
)

var orderingNames = [orderings]string{"cancel then release", "release then cancel", "release during ctx's run", "free race"}

// TestStressReleaseRacingCancel makes many guards and ends each in one of
// four orderings, in turn: three forced, so that each is covered whatever
// the scheduler does, and one free race. For every guard it checks that fn
// runs exactly once, and that release never returns before fn has. It
// counts, and logs, how often each side won the free races, but asserts no
// share: at one CPU, or under load, one side may win them all.
func TestStressReleaseRacingCancel(t *testing.T) {
	guards := 8_000 // per kind of context and wrapper
	if testing.Short() {
		guards = 2_000
	}
	kinds := []struct {
		name string
		new  func() (context.Context, func())
	}{
		{"WithCancel", func() (context.Context, func()) {
			return context.WithCancel(context.Background())
		}},
		{"custom Context", func() (context.Context, func()) {
			ctx := newChanCtx()
			return ctx, ctx.cancel
		}},
	}
	for _, w := range wrappers {
		for _, k := range kinds {
			t.Run(w.name+"/"+k.name, func(t *testing.T) {
				ignore := goleak.IgnoreCurrent()
				releaser := goid()
				var total atomic.Int64
				var byRelease, byCtx int
				for i := range guards {
					order := ordering(i) % orderings
					ctx, cancel := k.new()
					var runs atomic.Int32
					var onReleaser, fnReturned, releasing atomic.Bool
					started := make(chan struct{})
					rel := w.wrap(ctx, func() {
						runs.Add(1)
						total.Add(1)
						onReleaser.Store(goid() == releaser)
						close(started)
						if order == releaseInFlight {
							// Return only once release has been called.
							for !releasing.Load() {
								runtime.Gosched()
							}
						}
						fnReturned.Store(true)
					})
					switch order {
					case cancelThenRelease:
						cancel()
						<-started
						rel()
					case releaseThenCancel:
						rel()
						cancel()
					case releaseInFlight:
						cancel()
						<-started
						releasing.Store(true)
						rel()
					case freeRace:
						canceled := make(chan struct{})
						go func() {
							cancel()
							close(canceled)
						}()
						rel()
						<-canceled
					}
					if !fnReturned.Load() {
						t.Fatalf("%s: release returned before fn had returned", orderingNames[order])
					}
					if n := runs.Load(); n != 1 {
						t.Fatalf("%s: the guard ran fn %d times; want 1", orderingNames[order], n)
					}
					wantOnReleaser := order == releaseThenCancel
					switch {
					case order == freeRace && onReleaser.Load():
						byRelease++
					case order == freeRace:
						byCtx++
					case onReleaser.Load() != wantOnReleaser:
						t.Fatalf("%s: fn ran on the releasing goroutine: %v; want %v", orderingNames[order], onReleaser.Load(), wantOnReleaser)
					}
				}
				// Let every goroutine ctx started finish, then count again: a
				// late second run would show here.
				goleak.VerifyNone(t, ignore)
				if n := total.Load(); n != int64(guards) {
					t.Fatalf("fn ran %d times over %d guards; want %d", n, guards, guards)
				}
				t.Logf("%d guards, a quarter in each ordering; free races: release won %d, ctx won %d", guards, byRelease, byCtx)
			})
		}
	}
}
