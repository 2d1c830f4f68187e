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

// Options.Lease promises that a live holder whose renewals are each
// confirmed within Lease/4 keeps its slot, and cuts a round off at Lease/3.
// Here Redis runs every renewal at once and its reply comes Lease/5 after
// the call was sent, on a client made as the
// package documentation advises (ContextTimeoutEnabled): the holder keeps
// its slot over several rounds. A round cut off before the reply, or a
// renewal whose late reply did not count, would end it within a Lease.
func TestHolderWhoseRenewalsAreConfirmedWithinAThirdOfALeaseKeepsItsSlot(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: renewLease})
	const replyDelay = renewLease / 5 // 300ms: below Lease/3 (500ms), longer than the Lease/6 a missed round leaves
	var renewed atomic.Int64          // renewals Redis ran
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next() // Redis renews the lease now
		if err == nil {
			renewed.Add(1)
		}
		select { // and its reply is on the way for replyDelay
		case <-time.After(replyDelay):
			return err
		case <-ctx.Done():
			return failWith(cmds, ctx.Err())
		}
	}})
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	taken := time.Now()
	const hold = 2 * renewLease // six rounds
	select {
	case <-sctx.Done():
		t.Fatalf("the live holder lost its slot %v after taking it (cause %v), with %d renewals run by Redis, each reply due %v after its send (Lease %v); want it held for %v",
			time.Since(taken).Round(time.Millisecond), context.Cause(sctx), renewed.Load(), replyDelay, renewLease, hold)
	case <-time.After(hold):
	}
}
