package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A waiter whose entry vanished from the queue (dropped after a stall
// longer than its entry's life) joins again at the back within an entry
// renewal round, even when it is not the oldest waiter here, and even when
// the queue is at its cap meanwhile: it was admitted to the line before.
func TestWaiterWhoseEntryVanishedJoinsAgainWhateverTheCap(t *testing.T) {
	srv, h, w := pair(t, redisslot.Options{Lease: longLease, MaxWaiters: 2})
	redisslot.SetRetryInterval(w.l, noRetry)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan outcome, 3)
	joinQueue(t, w.l, ctx, "k", 1, 0, out)
	joinQueue(t, w.l, ctx, "k", 1, 1, out)
	order, until := redisslot.QueueKeys(w.l, "k")
	second := raw.ZRange(ctx, order, 1, 1).Val()
	if len(second) != 1 {
		t.Fatalf("queue %v; want two waiters", raw.ZRange(ctx, order, 0, -1).Val())
	}
	if err := raw.ZRem(ctx, order, second[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.ZRem(ctx, until, second[0]).Err(); err != nil {
		t.Fatal(err)
	}
	joinQueue(t, h.l, ctx, "k", 1, 2, out) // the queue is at its cap of 2 again
	eventually(t, "the waiter whose entry vanished joins again", func() bool { return waiting(t, w.l, "k") == 3 })
	rel()
	for _, want := range []int{0, 2, 1} {
		o := nextOutcome(t, out)
		if o.err != nil {
			t.Fatalf("waiter %d: %v", o.who, o.err)
		}
		if o.who != want {
			t.Errorf("waiter %d served; want waiter %d: the one whose entry vanished joins again at the back", o.who, want)
		}
		o.rel()
	}
}

// The waiter of an instance that died, alone in its key's queue, holds up
// nobody once its entry ends, and leaves nothing behind: the queue's sets
// expire by themselves, with no other call on the key, and a TryAcquire
// then gets the slot.
func TestLoneWaiterOfADeadInstanceLeavesNoKeyBehind(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Lease: longLease, Prefix: testPrefix(t)}
	h, d, o := newFixture(t, srv, opts), newFixture(t, srv, opts), newFixture(t, srv, opts)
	var dead atomic.Bool
	d.client.AddHook(deadHook(&dead))
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan outcome, 1)
	joinQueue(t, d.l, ctx, "k", 1, 0, out)
	dead.Store(true) // its entry is renewed no more, and its leave never arrives
	rel()
	eventually(t, "the holder's free arrives", func() bool { return inUse(t, h.l, "k") == 0 })
	order, until := redisslot.QueueKeys(d.l, "k")
	// Its entry ends EntryTTL after its last renewal, at most a renewal
	// interval ago; the bound allows a loaded machine seconds more.
	const slack = 5 * time.Second
	deadline := time.Now().Add(redisslot.EntryTTL + slack)
	for raw.Exists(ctx, order, until).Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the dead waiter's queue sets still exist %v after its entry ended: %v, PTTL %v",
				slack, raw.ZRangeWithScores(ctx, until, 0, -1).Val(), raw.PTTL(ctx, until).Val())
		}
		time.Sleep(pollInterval)
	}
	_, rel2 := mustTry(t, o.l, ctx, "k", 1)
	rel2()
}

// A waiter's entry is renewed every 300ms, a third of its life, so that
// a live waiter rides out a Redis pause of about two rounds: the constants
// say so, and a waiting Acquire's renewals come that often.
func TestEntriesAreRenewedEveryThirdOfTheirLife(t *testing.T) {
	const every = 300 * time.Millisecond
	if redisslot.EntryRenewEvery != every || 3*redisslot.EntryRenewEvery > redisslot.EntryTTL {
		t.Errorf("entries renewed every %v with a life of %v; want every %v, at most a third of it", redisslot.EntryRenewEvery, redisslot.EntryTTL, every)
	}
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	renewed := make(chan time.Time, 100)
	f.client.AddHook(scriptHook{hash: redisslot.RenewWaitersHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		sendOrDrop(renewed, time.Now())
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 1)
	joinQueue(t, f.l, wctx, "k", 1, 0, out)
	first := recv(t, renewed, waitAtOnce, "no renewal of the waiter's entry")
	var last time.Time
	for range 3 {
		last = recv(t, renewed, waitAtOnce, "the waiter's entry renewals stopped")
	}
	// Three intervals, and what a loaded machine may add to them.
	if d, bound := last.Sub(first), 3*every+time.Second; d > bound {
		t.Errorf("four renewals of a waiter's entry took %v; want them every %v (within %v)", d, every, bound)
	}
	cancel()
	nextOutcome(t, out)
}
