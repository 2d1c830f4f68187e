package redisslot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// canaryListener subscribes a raw client to l's restart canary and returns
// its messages.
func canaryListener(t *testing.T, ctx context.Context, srv *redistest.Server, l *redisslot.Limiter) <-chan *redis.Message {
	t.Helper()
	sub := srv.Client(t).Subscribe(ctx, redisslot.CanaryChannel(l))
	t.Cleanup(func() { _ = sub.Close() })
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	return sub.Channel()
}

// A second emptied script cache (a second restart: on a Redis Cluster, a
// rolling restart of its nodes, the second a few seconds after the first)
// found within a round interval (Lease/3) of the first restart message is
// an event of its own: the Limiters that heard the first message ran their
// round before it, and have not found what it lost. The teller clears its
// want and drops it for the once-per-interval rule, and never sends it: the
// holders of another Limiter that the second restart lost stay live beside
// the new holders until that Limiter's next round. (Sending it a round
// interval late, once the rule allows, would do.)
func TestSecondEmptiedScriptCacheWithinARoundIntervalIsToldToo(t *testing.T) {
	srv := redistest.Start(t)
	ctx := ctxWithTimeout(t)
	// a's round interval (2s) is shorter than b's (20s): a message a sends
	// a round interval late still ends b's lost holder before b's own round.
	a := newFixture(t, srv, redisslot.Options{Prefix: "p:", Lease: 6 * time.Second})
	b := newFixture(t, srv, redisslot.Options{Prefix: "p:", Lease: longLease})
	raw := srv.Client(t)

	_, warm := mustTry(t, a.l, ctx, "warm", 1)
	defer warm()
	redisslot.RenewNow(a.l)
	bctx, brel := mustTry(t, b.l, ctx, "bk", 1)
	defer brel()
	// CanaryConfirmed would count a's subscription to the same channel.
	eventually(t, "b's canary subscribed", func() bool { return redisslot.CanaryChecked(b.l) })
	msgs := canaryListener(t, ctx, srv, a.l)

	// The first emptied cache: a tells the others, and b runs a round.
	bCalls := b.count.Commands()
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, r1 := mustTry(t, a.l, ctx, "k1", 1) // finds the acquire script gone
	defer r1()
	m := recv(t, msgs, waitAtOnce, "no restart message after the first SCRIPT FLUSH")
	t.Logf("first restart message from %s", m.Payload)
	eventually(t, "the first message out", func() bool { return redisslot.TellerIdle(a.l) })
	eventually(t, "b's round on the first message", func() bool { return b.count.Commands() > bCalls })

	// The second, seconds later: it loses b's slot of bk.
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.Del(ctx, redisslot.SlotKey(b.l, "bk")).Err(); err != nil {
		t.Fatal(err)
	}
	_, r2 := mustTry(t, a.l, ctx, "k2", 1) // finds the acquire script gone again
	defer r2()
	second := time.Now()
	every := redisslot.RenewEvery(a.l)
	bound := waitAfter(every)
	select {
	case <-bctx.Done():
	case <-time.After(bound):
		seen := "none"
		select {
		case m := <-msgs:
			seen = "one from " + m.Payload
		default:
		}
		t.Errorf("after %v (a's round interval %v, b's %v): b's holder of bk, lost by the second emptied cache, still live; restart messages since: %s",
			bound, every, redisslot.RenewEvery(b.l), seen)
		<-bctx.Done()
		t.Logf("b's holder of bk ended %v after the second emptied cache, at b's own round", time.Since(second).Round(time.Millisecond))
	}
}

// A failed restart message is wanted again (teller.send), yet a round that
// runs within a round interval of it (another script found gone in turn,
// which is how one emptied cache is found) clears the want and skips it:
// the message is never sent, though PUBLISH works again.
func TestFailedRestartMessageIsSentOnceRedisTakesItAgain(t *testing.T) {
	srv := redistest.Start(t)
	ctx := ctxWithTimeout(t)
	var failPublish atomic.Bool
	errNoPub := errors.New("test: PUBLISH refused")
	a := newFixture(t, srv, redisslot.Options{Lease: 3 * time.Second})
	a.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if failPublish.Load() && cmds[0].Name() == "publish" {
			return failWith(cmds, errNoPub)
		}
		return next()
	}})
	_, warm := mustTry(t, a.l, ctx, "warm", 1)
	defer warm()
	redisslot.RenewNow(a.l)
	msgs := canaryListener(t, ctx, srv, a.l)
	raw := srv.Client(t)

	failPublish.Store(true)
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, r1 := mustTry(t, a.l, ctx, "k", 1) // finds the acquire script gone
	defer r1()
	eventually(t, "the failed restart message reported", func() bool { return a.errs.has(errNoPub) })
	eventually(t, "the failed message no longer in flight", func() bool { return redisslot.TellerIdle(a.l) })
	failPublish.Store(false)
	if _, err := a.l.InUse(ctx, "k"); err != nil { // finds the InUse script gone: a round at once
		t.Fatal(err)
	}
	every := redisslot.RenewEvery(a.l)
	select {
	case m := <-msgs:
		t.Logf("restart message from %s", m.Payload)
	case <-time.After(waitAfter(2 * every)):
		var reps []string
		for _, e := range a.errs.all() {
			reps = append(reps, e.Error())
		}
		t.Errorf("after %v (round interval %v): the failed restart message was never sent again; OnError heard: %s",
			waitAfter(2*every), every, strings.Join(reps, "; "))
	}
}
