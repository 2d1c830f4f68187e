package slotstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ctxguard/release/slots"
)

// capCalls is a MaxWaitersFor that records its calls and answers cap for
// keys that end in ":cap", 0 (MaxWaiters) for the others.
type capCalls struct {
	cap   int
	mu    sync.Mutex
	calls map[string][]int // key -> the limit of each call
}

func (c *capCalls) maxWaitersFor(key string, limit int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = make(map[string][]int)
	}
	c.calls[key] = append(c.calls[key], limit)
	if strings.HasSuffix(key, ":cap") {
		return c.cap
	}
	return 0
}

// are fails t unless MaxWaitersFor has been called for key once with each
// of limits, in that order, and never for any other key.
func (c *capCalls) are(t *testing.T, key string, limits []int, when string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, got := range c.calls {
		if k != key {
			t.Errorf("%s: MaxWaitersFor(%q) called with limits %v; want no call for that key", when, k, got)
		}
	}
	if got := c.calls[key]; !slices.Equal(got, limits) {
		t.Errorf("%s: MaxWaitersFor called for the key with limits %v; want %v", when, got, limits)
	}
}

// testMaxWaitersForOnlyToJoin checks that MaxWaitersFor is called once
// by each Acquire that finds its key full, with that call's limit, and by
// nothing else: not by TryAcquire, whether it takes a slot or is refused,
// not by an Acquire admitted at once, and not again while a call waits
// through releases that wake it without admitting it.
func testMaxWaitersForOnlyToJoin(t *testing.T, open OpenWithOptions) {
	c := &capCalls{}
	ls := open(t, 2, Options{MaxWaitersFor: c.maxWaitersFor})
	ctx := t.Context()
	key, other := newKey("join"), newKey("free")

	held := []result{mustTry(t, ls[0], ctx, key, 3), mustTry(t, ls[1], ctx, key, 3), mustTry(t, ls[0], ctx, key, 3)}
	wantFull(t, ls[1], ctx, key, 3, "with 3 holders of limit 3")
	recvSlot(t, acquireAsync(ls[0], ctx, other, 1), "Acquire of a free key").rel()
	c.are(t, key, nil, "after TryAcquire calls and an Acquire admitted at once")

	w := acquireAsync(ls[1], ctx, key, 1)
	loadIs(t, ls[0], key, 3, 1)
	for i, h := range held {
		h.rel() // the waiter, passing limit 1, is admitted only once all three are free
		if i < len(held)-1 {
			inUseIs(t, ls[i%2], key, len(held)-1-i)
			notReturned(t, w, "Acquire of limit 1 with holders left")
		}
	}
	recvSlot(t, w, "waiter").rel()
	inUseIs(t, ls[0], key, 0)
	c.are(t, key, []int{1}, "after one Acquire waited through three releases")
}

// testMaxWaitersForSetsTheCap checks that a positive result of
// MaxWaitersFor is the cap of the key's line, in place of MaxWaiters, and
// that 0 falls back to MaxWaiters; and that an Acquire refused by the cap
// has asked it too, once.
func testMaxWaitersForSetsTheCap(t *testing.T, open OpenWithOptions) {
	c := &capCalls{cap: 1}
	ls := open(t, 1, Options{MaxWaiters: 2, MaxWaitersFor: c.maxWaitersFor})
	l := ls[0]
	for _, tc := range []struct {
		key  string
		wait int // waiters the cap lets in
	}{{newKey("one:cap"), 1}, {newKey("default"), 2}} {
		ctx, cancel := context.WithCancel(t.Context())
		h := mustTry(t, l, ctx, tc.key, 1)
		var waiters []<-chan result
		for i := range tc.wait {
			waiters = append(waiters, acquireAsync(l, ctx, tc.key, 1))
			loadIs(t, l, tc.key, 1, i+1)
		}
		r := recv(t, acquireAsync(l, ctx, tc.key, 1), "Acquire beyond the cap")
		if !errors.Is(r.err, slots.ErrQueueFull) {
			if r.rel != nil {
				r.rel()
			}
			t.Errorf("Acquire of %q beyond %d waiters = %v; want ErrQueueFull", tc.key, tc.wait, r.err)
		}
		want := make([]int, tc.wait+1)
		for i := range want {
			want[i] = 1
		}
		c.are(t, tc.key, want, fmt.Sprintf("after %d waiters and one refused", tc.wait))
		h.rel()
		for i, w := range waiters {
			recvSlot(t, w, fmt.Sprint("waiter ", i)).rel()
		}
		cancel()
		inUseIs(t, l, tc.key, 0)
		c.mu.Lock()
		c.calls = nil
		c.mu.Unlock()
	}
}
