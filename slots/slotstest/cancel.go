package slotstest

import (
	"context"
	"errors"
	"sync"
	"testing"
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

// testCancelRacingHandOff frees a slot while cancelling the first of two
// waiters, many times: whichever wins, the second waiter gets the slot in
// the end, so no slot is lost. How often each side won is logged, not
// asserted: no share of random wins is promised.
func testCancelRacingHandOff(t *testing.T, open OpenWithOptions) {
	const rounds = 20
	ls := open(t, 2, Options{})
	key := newKey("race")
	handedOff := 0
	for i := range rounds {
		h := mustTry(t, ls[0], t.Context(), key, 1)
		ctx, cancel := context.WithCancel(t.Context())
		first := acquireAsync(ls[1], ctx, key, 1)
		loadIs(t, ls[0], key, 1, 1)
		second := acquireAsync(ls[0], t.Context(), key, 1)
		loadIs(t, ls[1], key, 1, 2)

		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; h.rel() })
		wg.Go(func() { <-start; cancel() })
		close(start)
		wg.Wait()

		r := recv(t, first, "first waiter")
		if r.err == nil {
			handedOff++
			r.rel()
		} else if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("round %d: first waiter's Acquire = %v; want a slot or context.Canceled", i, r.err)
		}
		recvSlot(t, second, "second waiter").rel()
		inUseIs(t, ls[0], key, 0)
	}
	t.Logf("the first waiter got the slot in %d of %d rounds", handedOff, rounds)
}
