package slotstest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
)

// closeAll closes every Limiter of ls, each from two goroutines at once,
// and fails t unless every call returns nil within patience.
func closeAll(t *testing.T, ls []slots.Limiter) {
	t.Helper()
	errs := make(chan error, 2*len(ls))
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 2 {
			wg.Go(func() { errs <- l.Close() })
		}
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(patience):
		t.Fatalf("Close has not returned after %v", patience)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Close() = %v; want nil", err)
		}
	}
}

// testCloseEndsSlotsAndWaits checks that when Close returns, the context
// of every slot held is done with cause ErrClosed, every waiting Acquire
// returns ErrClosed, and a release called then returns. The Limiters close
// one at a time, the last first: a slot that a closing Limiter frees may
// rightly go to a waiter of another Limiter still open, which is then
// served, not closed.
func testCloseEndsSlotsAndWaits(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	ctx := t.Context()
	a, b := newKey("closea"), newKey("closeb")
	ha := mustTry(t, ls[0], ctx, a, 1)
	hb := mustTry(t, ls[1], ctx, b, 2)
	w0 := acquireAsync(ls[0], ctx, a, 1)
	loadIs(t, ls[1], a, 1, 1)
	w1 := acquireAsync(ls[1], ctx, a, 1)
	loadIs(t, ls[0], a, 1, 2)

	for i := len(ls) - 1; i >= 0; i-- {
		closeAll(t, ls[i:i+1])
	}
	wantCause(t, ha.ctx, slots.ErrClosed, "slot of key a after Close")
	wantCause(t, hb.ctx, slots.ErrClosed, "slot of key b after Close")
	for i, ch := range []<-chan result{w0, w1} {
		if r := recv(t, ch, "waiter during Close"); !errors.Is(r.err, slots.ErrClosed) {
			if r.rel != nil {
				r.rel()
			}
			t.Errorf("waiter %d: Acquire = %v; want ErrClosed", i, r.err)
		}
	}
	released := make(chan struct{})
	go func() { ha.rel(); hb.rel(); close(released) }()
	select {
	case <-released:
	case <-time.After(patience):
		t.Fatalf("release after Close has not returned after %v", patience)
	}
}

// testCallsAfterClose checks that every method returns ErrClosed once
// Close has returned.
func testCallsAfterClose(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("after")
	closeAll(t, ls)
	ctx, cancel := context.WithTimeout(t.Context(), patience) // ends a wait only if broken
	defer cancel()
	for i, l := range ls {
		if _, rel, err := l.TryAcquire(ctx, key, 1); !errors.Is(err, slots.ErrClosed) || rel != nil {
			t.Errorf("Limiter %d: TryAcquire after Close = %v; want ErrClosed", i, err)
		}
		if _, rel, err := l.Acquire(ctx, key, 1); !errors.Is(err, slots.ErrClosed) || rel != nil {
			t.Errorf("Limiter %d: Acquire after Close = %v; want ErrClosed", i, err)
		}
		if _, err := l.InUse(ctx, key); !errors.Is(err, slots.ErrClosed) {
			t.Errorf("Limiter %d: InUse after Close = %v; want ErrClosed", i, err)
		}
		if _, err := l.Load(ctx, key); !errors.Is(err, slots.ErrClosed) {
			t.Errorf("Limiter %d: Load after Close = %v; want ErrClosed", i, err)
		}
	}
}

// testCloseTwiceConcurrently closes the Limiters from several goroutines,
// then once more: every call returns nil.
func testCloseTwiceConcurrently(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	h := mustTry(t, ls[0], t.Context(), newKey("twice"), 1)
	closeAll(t, ls)
	closeAll(t, ls)
	wantCause(t, h.ctx, slots.ErrClosed, "slot after Close")
	h.rel()
}
