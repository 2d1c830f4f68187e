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
	endDead()
	ctx := ctxWithTimeout(t)
	if _, _, err := h.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire = %v; want ErrFull, a caller waits", err)
	}
	entries.open()
	close(resume)
	order, _ := redisslot.QueueKeys(f.l, "k")
	if err := srv.Client(t).ZScore(ctx, order, deadWaiter).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("ZSCORE of the dead head = %v; want redis.Nil: the TryAcquire dropped it", err)
	}
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v; want the slot once the dead head was dropped", r.err)
	}
	r.rel()
}
