package redisslot_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// Acquire promises that the oldest waiter of each key on a Limiter tries on
// its retry timer, as a slot a lease frees (a crashed holder's) publishes
// no wake-up. When the oldest waiter here finds its entry gone (another
// instance dropped it once it ended: a renewal late by a few hundred
// milliseconds) it joins again at the back, and the waiter behind it
// becomes the oldest here and first in line in Redis. That waiter is never
// told (only a waiter that leaves pokes the next one), so it arms no timer;
// the waiter that joined again, now behind it, cannot take the slot nor
// wake anyone. The test holds the key's one slot on an instance that then
// dies: the slot frees itself a Lease later, silently, and the waiter now
// first in line must take it within a retry interval after that. It waits
// until its ctx ends instead.
func TestWaiterMadeOldestByARejoinTakesASlotALeaseFreed(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	var dead atomic.Bool
	crashed := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	crashed.client.AddHook(deadHook(&dead))
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	holdAbandoned(t, crashed.l, ctx, "k", 1)
	out := make(chan outcome, 2)
	joinQueue(t, w.l, ctx, "k", 1, 0, out)
	joinQueue(t, w.l, ctx, "k", 1, 1, out)

	order, until := redisslot.QueueKeys(w.l, "k")
	line, err := raw.ZRange(ctx, order, 0, -1).Result()
	if err != nil || len(line) != 2 {
		t.Fatalf("ZRANGE %s 0 -1 = %v, %v; want two waiters", order, line, err)
	}
	// Drop waiter 0's entry, as a script of another instance drops an entry
	// that has ended: the entry renewer finds it gone and waiter 0 joins again.
	if err := raw.ZRem(ctx, order, line[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.ZRem(ctx, until, line[0]).Err(); err != nil {
		t.Fatal(err)
	}
	rejoined := []string{line[1], line[0]}
	eventually(t, "waiter 0 joins the line again, behind waiter 1", func() bool {
		now, err := raw.ZRange(ctx, order, 0, -1).Result()
		return err == nil && slices.Equal(now, rejoined)
	})

	dead.Store(true) // the holder's lease now ends within a Lease, freeing the slot silently
	died := time.Now()
	bound := testLease + redisslot.RetryInterval(w.l) + handoffSlack
	select {
	case o := <-out:
		if o.err != nil || o.who != 1 {
			t.Fatalf("waiter %d returned %v; want waiter 1, first in line, to take the slot", o.who, o.err)
		}
		o.rel()
		if took := time.Since(died); took > bound {
			t.Errorf("waiter 1 took the slot %v after its holder died; want within Lease + retry interval (+slack) = %v", took, bound)
		}
	case <-time.After(bound):
		t.Errorf("no waiter took the slot within Lease + retry interval (+slack) = %v of its holder's death; "+
			"waiter 1, first in line and the oldest waiter here since waiter 0 joined again, has no retry timer", bound)
	}
}
