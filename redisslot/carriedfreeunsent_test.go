package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A release here while a waiter here is first in line hands its free to
// that waiter's next try, which carries it. When the waiter's ctx ends
// after the try's own check of ctx and before go-redis sends it (here the
// hook holds the try, as a busy pool would, until ctx ends), go-redis
// returns ctx's error and sends nothing: the try never reached Redis, as
// after a pool timeout. With no waiter's try left to carry it, the free
// must go out at once, as the waiter's own does, not with the renewal
// round a third of the Lease later: until then the released slot would
// stay taken in Redis with nobody holding it.
func TestFreeCarriedByATryThatNeverReachedRedisIsSentAtOnce(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // the next round is 20s away
	redisslot.SetRetryInterval(f.l, longLease)                   // the waiter tries only when woken
	warmUp(t, f.l)                                               // the round of its canary's first confirmation is past
	var tries atomic.Int64                                       // acquire calls returned
	carrying := make(chan struct{}, 1)
	carrierErr := make(chan error, 1) // what go-redis made of the try that carried the free
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		defer tries.Add(1)
		if n, _ := cmds[0].Args()[scriptArg+6].(int); n > 0 { // it carries a free
			sendOrDrop(carrying, struct{}{})
			<-ctx.Done() // no connection comes before the caller's ctx ends
			err := next()
			sendOrDrop(carrierErr, err)
			return err
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	wctx, cancelWaiter := context.WithCancel(ctx)
	defer cancelWaiter()
	result := waitingAcquire(t, wctx, f.l, "k", 1)
	// Its join, and the try it makes once subscribed to wake-ups.
	eventually(t, "the waiter's join and first try return", func() bool { return tries.Load() >= 2 })
	// A wake-up due (a try about to go) would have the release send the
	// free itself instead.
	eventually(t, "the waiter first in line with no wake-up due", func() bool { return redisslot.HandsOff(f.l, "k") })

	rel() // handed to the waiter, first in line here
	recv(t, carrying, waitAtOnce, "no try of the waiter carried the released slot's free")
	cancelWaiter()
	if err := recv(t, result, waitAtOnce, "the waiter did not return once its ctx ended"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire = %v; want context.Canceled", err)
	}
	if err := recv(t, carrierErr, waitAtOnce, "the try that carried the free did not return"); !errors.Is(err, context.Canceled) {
		t.Fatalf("the try that carried the free returned %v; want context.Canceled, with nothing sent to Redis", err)
	}
	deadline := time.Now().Add(waitAtOnce)
	for inUse(t, f.l, "k") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the released slot of k still taken in Redis %v after the waiter whose try carried its free returned; pending frees %d; the next round is %v after the slot was taken",
				waitAtOnce, f.l.Stats().PendingFrees, redisslot.RenewEvery(f.l))
		}
		time.Sleep(pollInterval)
	}
}
