package redisslot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Options.Lease promises: "A live holder keeps its slot while Redis
// confirms each background call of its Limiter (renewals, and the frees
// that a round may wait behind) within Lease/4". Here every script reply
// comes Lease/5 after its call, and other slots are released every 100ms,
// so that frees are on their way beside nearly every round: the live
// holder keeps its slot. The Lease is twice renewLease, so that a round may
// start over a second late on a loaded machine and still be confirmed in
// time.
func TestHolderKeepsItsSlotWhileFreesOfOtherReleasesAreSlow(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	const lease = 2 * renewLease
	const replyDelay = lease / 5 // 600ms: a round may start Lease/3 + 600ms after the last, and be confirmed 600ms later, within the life
	f := newFixture(t, srv, redisslot.Options{Lease: lease})
	ctx := ctxWithTimeout(t)
	sctx, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	var others []func()
	for i := 0; i < 60; i++ {
		_, r := mustTry(t, f.l, ctx, "churn", 1000)
		others = append(others, r)
	}
	defer func() {
		for _, r := range others {
			r()
		}
	}()

	var renewed atomic.Int64 // renewal replies delivered in time
	f.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		sent := time.Now()
		err := next() // Redis runs the call now
		select {      // and its reply is on the way until replyDelay after the send
		case <-time.After(time.Until(sent.Add(replyDelay))):
			if err == nil && scriptOf(cmds[0]) == redisslot.RenewHash {
				renewed.Add(1)
			}
			return err
		case <-ctx.Done():
			return failWith(cmds, fmt.Errorf("cut off: %w", ctx.Err()))
		}
	}})

	taken := time.Now()
	const hold = 3 * lease
	tick := time.NewTicker(100 * time.Millisecond) // a release of another slot every 100ms
	defer tick.Stop()
	deadline := time.After(hold)
	for {
		select {
		case <-sctx.Done():
			t.Fatalf("the live holder lost its slot %v after taking it (cause %v), with %d renewals confirmed, each %v after its send (Lease %v, Lease/4 %v); want it held for %v",
				time.Since(taken).Round(time.Millisecond), context.Cause(sctx), renewed.Load(), replyDelay, lease, lease/4, hold)
		case <-deadline:
			return
		case <-tick.C:
			if len(others) > 0 {
				others[0]()
				others = others[1:]
			}
		}
	}
}
