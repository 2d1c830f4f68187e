package redisslot_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A key's wake-up channel is subscribed to when its first local waiter
// joins, and unsubscribed from when its last leaves. A second confirmation
// of a channel means a reconnect, which may follow a restart that lost
// slots: the Limiter then looks for them (a round that forgets every lease
// confirmed). When the waiter leaves before its subscription's
// confirmation is read, that confirmation comes in after the key was
// dropped, and must leave no mark of it: the key's next waiter's
// subscription is a first one, not a reconnect. The confirmation is held
// on the pub/sub connection until the unsubscription has reached Redis.
func TestWaiterLeavingBeforeItsSubscriptionIsConfirmedLeavesNoMarkOfIt(t *testing.T) {
	srv := redistest.Shared(t)
	ctx := ctxWithTimeout(t)
	var channel atomic.Pointer[string] // k's wake-up channel, set before any subscription to it
	p, open := newGatedProxy(t, srv.Addr, false, func(b []byte) bool {
		ch := channel.Load()
		return ch != nil && bytes.Contains(b, []byte("subscribe")) && bytes.Contains(b, []byte(*ch))
	})
	o := srv.Options()
	o.Addr = p.addr
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	loadScripts(t, ctx, c)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: longLease}
	l := redisslot.New(c, opts)
	t.Cleanup(func() { closeWithin(t, l, waitAtOnce) })
	redisslot.SetRetryInterval(l, noRetry)
	warmUp(t, l) // the canary's subscription confirmed and looked into
	h := newFixture(t, srv, opts)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	ch := redisslot.WakeChannel(l, "k")
	channel.Store(&ch)
	tries := acquireCounter(c)
	subscribers := func() int64 { return srv.Client(t).PubSubNumSub(ctx, ch).Val()[ch] }
	asked := redisslot.RoundsAsked(l)

	actx, leave := context.WithCancel(ctx)
	first := waitingAcquire(t, actx, l, "k", 1)
	eventually(t, "the first waiter's subscription reaches Redis", func() bool { return subscribers() == 1 })
	leave()
	if err := recv(t, first, waitAtOnce, "the first waiter leaves"); !errors.Is(err, context.Canceled) {
		t.Fatalf("first Acquire = %v; want context.Canceled", err)
	}
	eventually(t, "the unsubscription reaches Redis", func() bool { return subscribers() == 0 })
	open() // the confirmation, then the unsubscription's

	before := tries.Load()
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	second := waitingAcquire(t, bctx, l, "k", 1)
	// Its join, then its try once its subscription is confirmed: the
	// confirmation is heard, and any look it starts marked, before that try.
	eventually(t, "the second waiter tries once subscribed", func() bool { return tries.Load() >= before+2 })
	if n := redisslot.RoundsAsked(l); n != asked {
		t.Errorf("the Limiter asked %d rounds to look for lost slots; want none: the second waiter's subscription was taken for a reconnect", n-asked)
	}
	cancel()
	recv(t, second, waitAtOnce, "the second waiter leaves")
}
