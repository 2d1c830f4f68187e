package slotstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ctxguard/release/slots"
)

// testCancelledWaiterLeaves checks that a waiter whose ctx ends returns at
// once with ctx's error, leaves Load's Waiting count, and takes no slot.
func testCancelledWaiterLeaves(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("leave")
	h := mustTry(t, ls[0], t.Context(), key, 1)
	ctx, cancel := context.WithCancel(t.Context())
	ch := acquireAsync(ls[1], ctx, key, 1)
	loadIs(t, ls[0], key, 1, 1)
	cancel()
	if r := recv(t, ch, "cancelled waiter"); !errors.Is(r.err, context.Canceled) {
		if r.rel != nil {
			r.rel()
		}
		t.Fatalf("cancelled waiter's Acquire = %v; want context.Canceled", r.err)
	}
	loadIs(t, ls[0], key, 1, 0)
	h.rel()
	inUseIs(t, ls[1], key, 0)
	mustTry(t, ls[1], t.Context(), key, 1).rel()
}

// A trapCtx is a cancelable context that cancels itself during the n-th
// call of its Done or Value method after it is armed. A backend calls them
// whenever it watches the ctx, derives a context from it or registers on
// it (the context package reads its own values through Value), so armed
// for n = 1, 2, 3, ... it ends at each of those points in turn, the
// hand-off of a slot among them.
type trapCtx struct {
	context.Context // from context.WithCancel
	cancel          context.CancelFunc

	mu    sync.Mutex
	left  int  // calls to let through before the one that cancels; 0: unarmed
	fired bool // it cancelled
}

func (c *trapCtx) Done() <-chan struct{} {
	c.spring()
	return c.Context.Done()
}

func (c *trapCtx) Value(key any) any {
	c.spring()
	return c.Context.Value(key)
}

// spring counts one call, and cancels c if it is the one c is armed for.
func (c *trapCtx) spring() {
	c.mu.Lock()
	fire := false
	if c.left > 0 {
		c.left--
		fire = c.left == 0
		c.fired = c.fired || fire
	}
	c.mu.Unlock()
	if fire {
		c.cancel()
	}
}

// arm makes c cancel itself during the n-th call of Done or Value from
// now on.
func (c *trapCtx) arm(n int) {
	c.mu.Lock()
	c.left, c.fired = n, false
	c.mu.Unlock()
}

// disarm stops c from cancelling itself and reports whether it did.
func (c *trapCtx) disarm() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.left = 0
	return c.fired
}

// maxTrapRounds bounds the sweep of testCancelRacingHandOff: more points
// than any backend reads a waiter's ctx at between a release and the
// waiter's return.
const maxTrapRounds = 200

// testCancelRacingHandOff ends the first of two waiters' ctx at each point,
// in turn, where the backend reads it (Done or Value) between a release and
// the first waiter's return: before the slot is handed to it, while the slot's
// context is made from it, while its release is registered on it. Round n
// cancels it during the n-th read (see trapCtx), until a round in which
// the waiter returns with its slot before the n-th read: every point has
// then been reached. Whichever side each round falls on, the second waiter
// gets the slot in the end, so a slot handed to a waiter whose ctx ends at
// that instant and never given back fails the round.
func testCancelRacingHandOff(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("race")
	sides := map[string]int{}
	for n := 1; ; n++ {
		if n > maxTrapRounds {
			t.Fatalf("after %d rounds the first waiter's ctx still ended before it returned: more reads of it than the sweep allows", maxTrapRounds)
		}
		fired, side := handOffRound(t, ls, key, n)
		sides[side]++
		if !fired {
			break
		}
	}
	if sides["no slot: ctx.Err()"]+sides["slot returned as its ctx ended"] == 0 {
		t.Errorf("no round ended the first waiter's ctx before it returned: %v", sides)
	}
	t.Logf("rounds by outcome: %v", sides)
}

// handOffRound is round n of testCancelRacingHandOff. It reports whether
// the first waiter's ctx ended before its Acquire returned, and how the
// round went.
func handOffRound(t *testing.T, ls []slots.Limiter, key string, n int) (fired bool, side string) {
	t.Helper()
	h := mustTry(t, ls[0], t.Context(), key, 1)
	inner, cancel := context.WithCancel(t.Context())
	defer cancel()
	trap := &trapCtx{Context: inner, cancel: cancel}
	first := acquireAsync(ls[1], trap, key, 1)
	loadIs(t, ls[0], key, 1, 1)
	second := acquireAsync(ls[0], t.Context(), key, 1)
	loadIs(t, ls[1], key, 1, 2)

	trap.arm(n)
	h.rel()
	r := recv(t, first, fmt.Sprintf("round %d: first waiter", n))
	fired = trap.disarm()
	cancel()
	switch {
	case r.err == nil && fired:
		side = "slot returned as its ctx ended"
		r.rel()
	case r.err == nil:
		side = "slot returned"
		r.rel()
	case errors.Is(r.err, context.Canceled):
		side = "no slot: ctx.Err()"
	default:
		t.Fatalf("round %d: first waiter's Acquire = %v; want a slot or context.Canceled", n, r.err)
	}
	recvSlot(t, second, fmt.Sprintf("round %d (%s): second waiter", n, side)).rel()
	inUseIs(t, ls[0], key, 0)
	return fired, side
}

// testCancelledHeadWaiterLetsOthersIn checks that when the first waiter
// leaves the line, the waiters behind it that their own limits admit are
// served at once: with one holder, a waiter passing limit 1 holds back one
// passing limit 2 until it leaves.
func testCancelledHeadWaiterLetsOthersIn(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("headleaves")
	ctx := t.Context()
	h := mustTry(t, ls[0], ctx, key, 2)
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	head := acquireAsync(ls[1], hctx, key, 1)
	loadIs(t, ls[0], key, 1, 1)
	behind := acquireAsync(ls[0], ctx, key, 2)
	loadIs(t, ls[1], key, 1, 2)
	notReturned(t, behind, "Acquire of limit 2 behind a waiter")
	cancel()
	if r := recv(t, head, "cancelled head waiter"); !errors.Is(r.err, context.Canceled) {
		if r.rel != nil {
			r.rel()
		}
		t.Fatalf("cancelled head waiter's Acquire = %v; want context.Canceled", r.err)
	}
	b := recvSlot(t, behind, "waiter of limit 2 behind a head waiter that left")
	inUseIs(t, ls[1], key, 2)
	b.rel()
	h.rel()
	inUseIs(t, ls[0], key, 0)
}
