package release_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release"
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

// spin burns about n steps of CPU without blocking, yielding or touching
// shared memory until the end.
func spin(n int) {
	x := 0
	for i := range n {
		x ^= i
	}
	spinSink.Store(int64(x))
}

var spinSink atomic.Int64

// canceller calls, on a goroutine of its own, each cancel function handed
// to it, and counts the calls. It polls rather than blocks, so that it runs
// in parallel with the releaser instead of waiting to be woken.
type canceller struct {
	next  atomic.Pointer[func()]
	calls atomic.Int64
	stop  atomic.Bool
	done  chan struct{}
}

func startCanceller() *canceller {
	c := &canceller{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for !c.stop.Load() {
			if f := c.next.Swap(nil); f != nil {
				(*f)()
				c.calls.Add(1)
			} else {
				runtime.Gosched() // let ctx's goroutines run
			}
		}
	}()
	return c
}

// cancel hands f to the canceller's goroutine.
func (c *canceller) cancel(f func()) { c.next.Store(&f) }

// wait returns once the canceller has made n calls.
func (c *canceller) wait(n int64) {
	for c.calls.Load() < n {
		runtime.Gosched()
	}
}

func (c *canceller) close() {
	c.stop.Store(true)
	<-c.done
}

// TestStressReleaseRacingCancel races release against the end of ctx for
// many guards and checks that fn runs exactly once, and that release never
// returns before fn has. It balances the race so that each path wins about
// half the time: the releaser waits a random while before releasing, and
// the bound of that wait grows by an eighth when release wins and shrinks
// by an eighth when ctx does.
func TestStressReleaseRacingCancel(t *testing.T) {
	const maxDelay = 1 << 20 // bounds the time a guard can take
	guards := 50_000         // per kind of context
	if testing.Short() {
		guards = 5_000
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
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			c := startCanceller()
			defer c.close()
			releaser := goid()
			var byRelease, byCtx, delay int
			var total atomic.Int64
			for i := range guards {
				ctx, cancel := k.new()
				var runs atomic.Int32
				var onReleaser, fnReturned atomic.Bool
				rel := release.WrapOnDone(ctx, func() {
					runs.Add(1)
					total.Add(1)
					onReleaser.Store(goid() == releaser)
					spin(8) // a window in which a racing release must wait
					fnReturned.Store(true)
				})
				// Let the watcher goroutine that a custom ctx needs start
				// waiting, rather than sit queued behind this goroutine.
				runtime.Gosched()
				c.cancel(cancel)
				spin(rand.N(delay + 1))
				rel()
				if !fnReturned.Load() {
					t.Fatal("release returned before fn had returned")
				}
				if n := runs.Load(); n != 1 {
					t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
				}
				if onReleaser.Load() {
					byRelease++
					delay = min(delay+delay/8+1, maxDelay)
				} else {
					byCtx++
					delay = max(delay-delay/8-1, 0)
				}
				c.wait(int64(i + 1))
			}
			// Let every goroutine ctx started finish, then count again: a
			// late second run would show here.
			c.close()
			goleak.VerifyNone(t, ignore)
			if n := total.Load(); n != int64(guards) {
				t.Fatalf("fn ran %d times over %d guards; want %d", n, guards, guards)
			}
			t.Logf("%d guards on %s: release won %d times, ctx won %d times (final delay bound %d)",
				guards, k.name, byRelease, byCtx, delay)
			if byRelease < guards/10 || byCtx < guards/10 {
				t.Errorf("release won %d times and ctx %d times; want each path to win at least a tenth of %d", byRelease, byCtx, guards)
			}
		})
	}
}
