package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// An acquire that drops a lapsed head from the queue wakes the waiter that
// is now first in line, as the entry renewal that drops one does
// (TestEntryRenewalThatDropsAnEndedHeadWakesTheNext): with one slot free
// and a dead instance's waiter first in line, a TryAcquire on another
// instance, sent once the dead waiter's entry has ended, drops it; the
// waiter behind it, now first with a slot free, must take that slot without
// a retry timer. The waiter's entry renewals are held while the TryAcquire
// runs, so that the TryAcquire is the call that drops the dead head.
func TestAcquireThatDropsAnEndedHeadWakesTheNext(t *testing.T) {
	srv, f, h := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(f.l, noRetry)
	tries := acquireCounter(f.client)
	var hold atomic.Bool
	resume := make(chan struct{})
	f.client.AddHook(scriptHook{hash: redisslot.RenewWaitersHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if hold.Load() {
			select {
			case <-resume:
			case <-ctx.Done():
			}
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	raw := srv.Client(t)
	order, until := redisslot.QueueKeys(f.l, "k")
	now := redisNowMs(t, raw)
	const dead = "dead-1/1" // the head waiter of an instance that died
	raw.ZAdd(ctx, order, redis.Z{Score: now * 1000, Member: dead})
	raw.ZAdd(ctx, until, redis.Z{Score: now + 600_000, Member: dead})
	out := make(chan outcome, 1)
	joinQueue(t, f.l, ctx, "k", 1, 0, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() == 2 })

	hold.Store(true)
	raw.ZAdd(ctx, until, redis.Z{Score: redisNowMs(t, raw) - 1, Member: dead})
	if _, _, err := h.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire = %v; want ErrFull, a caller waits", err)
	}
	hold.Store(false)
	close(resume)
	if err := raw.ZScore(ctx, order, dead).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("ZSCORE of the dead head = %v; want redis.Nil: the TryAcquire dropped it", err)
	}
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v; want the slot once the dead head was dropped", r.err)
	}
	r.rel()
}
