package slotstest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/slots"
)

// testLimitNeverExceeded runs workers that take and free one key through
// every Limiter, counting how many hold it at once. The first limit
// holders keep their slots until the test has seen the key full, with the
// other workers in line, so the contention reaches the limit by
// construction, not by luck.
func testLimitNeverExceeded(t *testing.T, open OpenWithOptions) {
	const (
		n       = 2
		limit   = 3
		workers = 4 * limit
		rounds  = 10
	)
	ls := open(t, n, Options{})
	key := newKey("limit")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer stopAll(t, cancel, &wg, "workers")

	var inside, most, over atomic.Int64
	full := make(chan struct{}) // closed once the test saw the key full
	for i := range workers {
		wg.Go(func() {
			for range rounds {
				sctx, rel, err := ls[i%n].Acquire(ctx, key, limit)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("worker %d: Acquire: %v", i, err)
					}
					return
				}
				c := inside.Add(1)
				if c > limit {
					over.Add(1)
				}
				for m := most.Load(); c > m && !most.CompareAndSwap(m, c); m = most.Load() {
				}
				select {
				case <-full:
				case <-ctx.Done(): // the test failed
				}
				if sctx.Err() != nil && ctx.Err() == nil {
					t.Errorf("worker %d: slot context done while held: %v", i, context.Cause(sctx))
				}
				inside.Add(-1)
				rel()
			}
		})
	}
	waitFull(t, ls, ctx, key, limit, workers, &inside)
	close(full)
	waitAll(t, &wg, "workers")

	if got := over.Load(); got != 0 {
		t.Errorf("%d times more than %d callers held the key; want never", got, limit)
	}
	if got := most.Load(); got != limit {
		t.Errorf("at most %d callers held the key at once; want exactly the limit %d", got, limit)
	}
	inUseIs(t, ls[0], key, 0)
}

// waitFull waits until limit callers hold key and the other workers wait
// for it, by Load's count and by the holders' own count (a backend may count
// a holder before its Acquire returns), then checks that it is full.
func waitFull(t *testing.T, ls []slots.Limiter, ctx context.Context, key string, limit, workers int, inside *atomic.Int64) {
	t.Helper()
	loadIs(t, ls[0], key, limit, workers-limit)
	eventually(t, func() string {
		if n := inside.Load(); n != int64(limit) {
			return fmt.Sprintf("%d callers hold the key; want the limit %d", n, limit)
		}
		return ""
	})
	wantFull(t, ls[1], ctx, key, limit, "while limit holders hold the key")
}

// testLimitIsPerCaller checks that each caller is admitted against the
// limit it passes, counting the holders that passed other limits.
func testLimitIsPerCaller(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("perlimit")
	ctx := t.Context()

	a := mustTry(t, ls[0], ctx, key, 5)
	b := mustTry(t, ls[1], ctx, key, 5)
	c := mustTry(t, ls[0], ctx, key, 5)
	wantFull(t, ls[1], ctx, key, 3, "with 3 holders, passing limit 3")
	d := mustTry(t, ls[1], ctx, key, 4)
	wantFull(t, ls[0], ctx, key, 4, "with 4 holders, passing limit 4")
	wantFull(t, ls[0], ctx, key, 1, "with 4 holders, passing limit 1")
	inUseIs(t, ls[0], key, 4)
	for _, r := range []result{a, b, c, d} {
		r.rel()
	}
	inUseIs(t, ls[1], key, 0)
}

// testReleaseExactlyOnce calls one slot's release from many goroutines at
// once: it must free that slot once, not the other holder's too.
func testReleaseExactlyOnce(t *testing.T, open OpenWithOptions) {
	const callers = 32
	ls := open(t, 2, Options{})
	key := newKey("once")
	ctx := t.Context()

	a := mustTry(t, ls[0], ctx, key, 2)
	b := mustTry(t, ls[1], ctx, key, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			<-start
			a.rel()
		})
	}
	close(start)
	waitAll(t, &wg, "concurrent releases")
	wantCause(t, a.ctx, context.Canceled, "after release")

	inUseIs(t, ls[1], key, 1)
	c := mustTry(t, ls[1], ctx, key, 2)
	wantFull(t, ls[0], ctx, key, 2, "after one release of two holders and a new holder")
	a.rel()
	if b.ctx.Err() != nil {
		t.Fatalf("the other holder's slot context is done: %v", context.Cause(b.ctx))
	}
	inUseIs(t, ls[0], key, 2)
	b.rel()
	c.rel()
	inUseIs(t, ls[0], key, 0)
}
