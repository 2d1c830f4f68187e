package redisslot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// A join sent again (a client's retry after a lost reply) is answered
// "kept its place" (order -1) with its rank. The Limiter takes that -1 as
// the new waiter's order, and its local line is sorted by order: the copy
// goes to the front, ahead of an older local waiter that is first in
// Redis's line. Only the oldest local waiter keeps a retry timer, the one
// that ends a lost wake-up: now the copy's, which is second in line and
// cannot be admitted, while the real first in line has none.
//
// Here b holds the one slot of k (limit 1). On a, W joins and waits, first
// in line; then M's join is sent twice, behind W. Once W's retry timer has
// fired (its try is refused: b still holds k), b releases, and the
// release's wake-up, which names W, is dropped on a (a wake-up lost, as
// go-redis drops one from a reader a minute behind). W must take the slot
// within the retry interval (promise: a lost wake-up still ends with the
// slot taken within it); M's timer tries instead, again and again, each
// refused at rank 1, and the slot stays free while both wait.
func TestJoinSentAgainBehindALocalWaiterLeavesTheFirstInLineItsRetryTimer(t *testing.T) {
	_, a, b := pair(t, redisslot.Options{Lease: longLease})
	const retry = 200 * time.Millisecond
	redisslot.SetRetryInterval(a.l, retry)
	var dropped atomic.Int32
	redisslot.SetDropWake(a.l, func(string) bool { dropped.Add(1); return true })

	// The hook sends M's join twice, and records the members of a's tries.
	var (
		armed, copied atomic.Bool
		mu            sync.Mutex
		tries         []string // members of a's "wait" tries, in order
		firstJoin     string
	)
	a.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		args := cmds[0].Args()
		member, _ := args[scriptArg].(string)
		mode, _ := args[scriptArg+3].(string)
		mu.Lock()
		switch {
		case mode == "wait":
			tries = append(tries, member)
		case mode == "join" && firstJoin == "":
			firstJoin = member
		}
		mu.Unlock()
		err := next()
		if err != nil || mode != "join" || !armed.CompareAndSwap(true, false) {
			return err
		}
		err = next() // the copy: finds the member in line (ZADD NX), keeps its place
		copied.Store(true)
		return err
	}})
	triesOf := func(member string, from int) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, m := range tries[min(from, len(tries)):] {
			if m == member {
				n++
			}
		}
		return n
	}

	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, b.l, ctx, "k", 1)
	out := make(chan outcome, 2)
	queueAcquire(t, a.l, ctx, "k", 1, 0, out) // W, first in line
	mu.Lock()
	w := firstJoin
	mu.Unlock()
	armed.Store(true)
	queueAcquire(t, a.l, ctx, "k", 1, 1, out) // M, its join sent twice
	if !copied.Load() {
		t.Fatal("M's join was not sent again")
	}
	mu.Lock()
	from := len(tries)
	mu.Unlock()
	// W's timer, armed while W was the oldest, fires once more; refused
	// (b holds k), W arms it again only if it is still the oldest here.
	eventuallyWithin(t, waitAfter(retry), "W's retry timer fires after M's copy was answered", func() bool { return triesOf(w, from) >= 1 })
	// The try's reply is handled within the next retry interval; M's timer
	// tries in it (it is the oldest here, or W's would).
	eventuallyWithin(t, waitAfter(retry), "a's oldest waiter's retry timer fires again", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(tries) >= from+3
	})

	released := time.Now()
	rel()
	eventually(t, "the release's wake-up dropped on a", func() bool { return dropped.Load() > 0 })
	select {
	case r := <-out:
		took := time.Since(released)
		if r.err != nil {
			t.Fatalf("waiter %d's Acquire: %v; want a slot", r.who, r.err)
		}
		defer r.rel()
		if r.who != 0 {
			t.Errorf("waiter %d (M, second in line) took the slot; want W, first in line", r.who)
		}
		t.Logf("waiter %d took the slot %v after the release", r.who, took.Round(time.Millisecond))
	case <-time.After(waitAfter(retry)):
		mu.Lock()
		n, ws := len(tries)-from, 0
		for _, m := range tries[from:] {
			if m == w {
				ws++
			}
		}
		mu.Unlock()
		t.Fatalf("no waiter took k's free slot within %v of its release, its wake-up lost (retry interval %v): a's waiters tried %d times since M's copy, W (first in line) %d of them; M (order -1, the local oldest) keeps the retry timer and is refused at rank 1",
			time.Since(released).Round(time.Millisecond), retry, n, ws)
	}
}
