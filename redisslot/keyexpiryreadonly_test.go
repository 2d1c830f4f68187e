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

// Promise 1, for an instance cut off from Redis, across a failover that a
// round finds answered READONLY: the old master, demoted under the
// instance's open connections, answers READONLY; the round runs again, on
// a new connection, and reaches the promoted replica, which has the
// scripts (no NOSCRIPT tells of the failover there). The replica may have
// a key with an older expiry, from before an extension it missed: the
// round run again must extend it, as a round answered NOSCRIPT does, or
// the key expires under a slot whose lease that round confirmed.
//
// Here a takes k (limit 1); once two rounds have renewed its slot (leaving
// k's expiry alone), the replica's link is cut: the replica keeps k's
// expiry, two leases after the acquire, and misses the round that extends
// k a slot's life after it. At once after that extension the replica is
// promoted with the scripts, the old master is demoted, and a's open
// connections stay on it. a's next round is answered READONLY and runs
// again until the new master answers it; then a's network to Redis holds
// every byte (the in-test proxy, frozen), as for an instance cut off. a's
// slot lives, by a's clock, a slot's life after that round, past k's older
// expiry. k must not expire before then: if it does, b takes k (limit 1)
// beside a's holder.
func TestRoundAnsweredReadOnlyExtendsTheKeysWhenItRunsAgain(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	const lease = olderExpiryLease
	s := newFailoverSetup(t)
	ctx := ctxWithTimeout(t)
	prefix := testPrefix(t)

	cut := redistest.NewProxy(t, s.addr.addr) // a's network to the address
	o := s.master.Options()
	o.Addr = cut.Addr
	client := redis.NewClient(o)
	t.Cleanup(func() { _ = client.Close() })
	aErrs := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: prefix, Lease: lease, ReleaseTimeout: time.Second, OnError: aErrs.add})
	life := redisslot.Life(a)
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*time.Second)) })
	// Its canary's first look forgets the keys' extensions: before k is taken.
	warmUp(t, a)
	t.Cleanup(cut.Thaw) // before a closes

	var failedOver, readOnly atomic.Bool
	var answered atomic.Int64 // when the first round the new master answered was sent, Unix ns
	renewed := make(chan struct{})
	client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		at := time.Now()
		err := next()
		switch {
		case !failedOver.Load():
		case err != nil && strings.HasPrefix(err.Error(), "READONLY"):
			readOnly.Store(true) // the demoted master: the round runs again
		case readOnly.Load() && err == nil && cmds[0].Err() == nil && answered.CompareAndSwap(0, at.UnixNano()):
			cut.Freeze() // a is cut off from Redis from now on
			close(renewed)
		}
		return err
	}})

	first, relFirst := mustTry(t, a, ctx, "k", 1)
	defer relFirst()
	acquired := redisslot.KeyKeptSince(a, "k")
	rkey := redisslot.SlotKey(a, "k")
	onMaster, onReplica := s.master.Client(t), s.replica.Client(t)
	member := members(t, onMaster, rkey)[0].Member.(string)
	renewedPast := func(from time.Time) func() bool { // a round sent at from or later renewed the slot
		return func() bool { return onMaster.ZScore(ctx, rkey, member).Val() >= float64(from.Add(lease).UnixMilli()) }
	}

	// The replica gets a's rounds that renew the slot and leave k's expiry
	// alone, and misses the one that extends k and every write after it.
	eventuallyWithin(t, waitAfter(lease), "a's second round renews its slot", renewedPast(acquired.Add(lease/2)))
	s.synced(t)
	s.link.Freeze()
	restored := onReplica.PExpireTime(ctx, rkey).Val()
	eventuallyWithin(t, waitAfter(2*lease), "a round extends k, confirmed", func() bool {
		return redisslot.KeyKeptSince(a, "k").After(acquired)
	})
	holdConns(t, client, demotedConns) // more than a round's call tries: each is answered READONLY
	failedOver.Store(true)
	s.failOver(t, failoverCase{open: keepConns, scripts: true, demote: true})

	recv(t, renewed, waitAfter(lease), "a's round answered READONLY runs again until the new master answers it")
	sent := time.Unix(0, answered.Load())
	slotEnds := sent.Add(life) // by a's clock, at the latest
	expiresAt := time.UnixMilli(restored.Milliseconds())
	if !expiresAt.Before(slotEnds) {
		t.Fatalf("k's older expiry on the new master, %v after the resent renewal, comes after a's slot ends by a's clock; the test needs it before", expiresAt.Sub(sent))
	}

	// b, made now, tries at once once k expires: a's slot is live until then.
	b := newFixture(t, s.replica, redisslot.Options{Prefix: prefix, Lease: lease})
	// Until k's older expiry on the new master.
	eventuallyWithin(t, waitAfter(time.Until(expiresAt)), "k expires on the new master, or a's slot ends", func() bool {
		return onReplica.Exists(ctx, rkey).Val() == 0 || first.Err() != nil
	})
	if first.Err() != nil {
		return // a's slot ended first: nobody could take it beside it
	}
	_, rel, err := b.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		if !errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("b's TryAcquire(k, 1): %v", err)
		}
		return
	}
	defer rel()
	if first.Err() == nil {
		t.Errorf("k expired on the new master at its older expiry, %v after a's round answered READONLY ran again and reached the new master, which renewed a's slot there for %v and a confirmed; b took k (limit 1) while a's holder is live, by a's clock until %v after that renewal (a's OnError, cut off: %v); want a round run again after READONLY to extend every key, as after NOSCRIPT",
			expiresAt.Sub(sent).Round(time.Millisecond), lease, life, aErrs.all())
	}
}
