package redisslot_test

import (
	"context"
	"errors"
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
	var entries callGate
	resume := make(chan struct{})
	f.client.AddHook(scriptHook{hash: redisslot.RenewWaitersHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return entries.pass(next, func() error {
			select {
			case <-resume:
			case <-ctx.Done():
			}
			return next()
		})
	}})
	out, endDead := behindADeadHead(t, srv, f)
	entries.shut(t) // no renewal on its way can drop the dead head after its entry ends
	ctx := ctxWithTimeout(t)
	raw := srv.Client(t)
	order, until := redisslot.QueueKeys(f.l, "k")
	queued := raw.ZRange(ctx, order, 0, -1).Val()
	if len(queued) != 2 || queued[0] != deadWaiter {
		t.Fatalf("queue of k = %v; want the dead head, then f's waiter", queued)
	}
	// f's waiter's entry outlives the test, however long the renewals are held.
	if err := raw.ZAdd(ctx, until, redis.Z{Score: 1 << 50, Member: queued[1]}).Err(); err != nil {
		t.Fatal(err)
	}
	endDead()
	if _, _, err := h.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire = %v; want ErrFull, a caller waits", err)
	}
	// Read before the held renewal goes on, which would drop the dead head too.
	if err := raw.ZScore(ctx, order, deadWaiter).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("ZSCORE of the dead head = %v; want redis.Nil: the TryAcquire dropped it", err)
	}
	entries.open()
	close(resume)
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v; want the slot once the dead head was dropped", r.err)
	}
	r.rel()
}
