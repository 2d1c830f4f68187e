package slotstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ctxguard/release/slots"
)

// testFIFO lines up waiters that join alternately through each Limiter,
// each one only once the previous is counted in Load's Waiting, and checks
// that they are served in that order.
func testFIFO(t *testing.T, open OpenWithOptions) {
	const (
		n       = 2
		waiters = 6
	)
	ls := open(t, n, Options{})
	key := newKey("fifo")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer stopAll(t, cancel, &wg, "waiters")

	h := mustTry(t, ls[0], ctx, key, 1)
	var mu sync.Mutex
	var order []int
	for i := range waiters {
		wg.Go(func() {
			_, rel, err := ls[i%n].Acquire(ctx, key, 1)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("waiter %d: Acquire: %v", i, err)
				}
				return
			}
			mu.Lock()
			order = append(order, i) // while holding the only slot
			mu.Unlock()
			rel()
		})
		loadIs(t, ls[(i+1)%n], key, 1, i+1)
	}
	h.rel()
	waitAll(t, &wg, "waiters")
	for i, got := range order {
		if got != i {
			t.Fatalf("waiters served in order %v; want 0 to %d in the order they joined", order, waiters-1)
		}
	}
	if len(order) != waiters {
		t.Fatalf("%d of %d waiters served", len(order), waiters)
	}
	inUseIs(t, ls[0], key, 0)
}

// testAcquireJoinsAtTheBack checks that an Acquire whose own limit would
// admit it still waits behind the key's waiters.
func testAcquireJoinsAtTheBack(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("back")
	ctx := t.Context()

	h := mustTry(t, ls[0], ctx, key, 1)
	first := acquireAsync(ls[1], ctx, key, 1)
	loadIs(t, ls[0], key, 1, 1)
	second := acquireAsync(ls[0], ctx, key, 2) // 1 < 2 holders, but one waits
	loadIs(t, ls[1], key, 1, 2)
	notReturned(t, second, "Acquire with limit 2 behind a waiter")
	h.rel()
	a := recvSlot(t, first, "first waiter")
	b := recvSlot(t, second, "second waiter, admitted beside the first by its limit 2")
	inUseIs(t, ls[0], key, 2)
	a.rel()
	b.rel()
	inUseIs(t, ls[0], key, 0)
}

// testTryAcquireDoesNotJumpTheQueue checks that TryAcquire refuses while
// a caller waits, even when its own limit would admit it and right after
// a release, and that the waiter then gets the slot.
func testTryAcquireDoesNotJumpTheQueue(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("nojump")
	ctx := t.Context()

	h := mustTry(t, ls[0], ctx, key, 1)
	ch := acquireAsync(ls[1], ctx, key, 1)
	loadIs(t, ls[0], key, 1, 1)
	wantFull(t, ls[0], ctx, key, 2, "with 1 holder of limit 2 while a caller waits")
	h.rel()
	wantFull(t, ls[0], ctx, key, 1, "right after a release while a caller waits")
	wantFull(t, ls[1], ctx, key, 1, "right after a release, through the other Limiter")
	w := recvSlot(t, ch, "waiter")
	inUseIs(t, ls[0], key, 1)
	w.rel()
	inUseIs(t, ls[0], key, 0)
	mustTry(t, ls[1], ctx, key, 1).rel()
}

// testQueueCap fills a key's line to the cap on one Limiter: the next
// Acquire is refused at once with ErrQueueFull, which also matches
// ErrFull and names the key; once a waiter leaves, one may join again.
func testQueueCap(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{MaxWaiters: queueCap})
	l := ls[0]
	key := newKey("cap")
	h := mustTry(t, l, t.Context(), key, 1)
	cancels := make([]context.CancelFunc, queueCap)
	chans := make([]<-chan result, queueCap)
	for i := range queueCap {
		var ctx context.Context
		ctx, cancels[i] = context.WithCancel(t.Context())
		chans[i] = acquireAsync(l, ctx, key, 1)
		loadIs(t, l, key, 1, i+1)
	}
	// Nothing frees a slot or ends a wait now: this Acquire returns only
	// if it is refused.
	r := recv(t, acquireAsync(l, t.Context(), key, 1), "Acquire beyond the cap")
	if r.err == nil {
		r.rel()
		t.Fatalf("Acquire beyond the cap of %d waiters took a slot; want ErrQueueFull", queueCap)
	}
	if !errors.Is(r.err, slots.ErrQueueFull) || !errors.Is(r.err, slots.ErrFull) {
		t.Fatalf("Acquire beyond the cap = %v; want an error matching ErrQueueFull and ErrFull", r.err)
	}
	if !strings.Contains(r.err.Error(), key) {
		t.Errorf("Acquire beyond the cap = %q; want it to name key %q", r.err, key)
	}

	cancels[0]()
	if r := recv(t, chans[0], "cancelled waiter"); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled waiter's Acquire = %v; want context.Canceled", r.err)
	}
	loadIs(t, l, key, 1, queueCap-1)
	chans[0] = acquireAsync(l, t.Context(), key, 1)
	loadIs(t, l, key, 1, queueCap)
	h.rel()
	for i, ch := range chans[1:] {
		recvSlot(t, ch, fmt.Sprintf("waiter %d", i+1)).rel()
	}
	recvSlot(t, chans[0], "waiter that joined after one left").rel()
	for _, cancel := range cancels {
		cancel()
	}
	inUseIs(t, l, key, 0)
}
