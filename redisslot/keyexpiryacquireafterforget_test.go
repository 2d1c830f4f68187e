package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// Promise 5, its safety against a failover that no call sees fail (see
// TestRoundAnsweredNoScriptHasTheNextExtendEveryKey): the first round sent
// to the promoted replica is answered NOSCRIPT and forgets every key's last
// extension, so that the next round extends every key. An acquire answered
// by the old master before the failover, whose reply its goroutine handles
// only after that round, must not undo the forget: its extension of the key
// was made on the old master, which the failover left behind.
//
// Here a takes a slot of k (limit 2); once its rounds have renewed it
// (leaving k's expiry alone), the replica's link is cut: the replica keeps
// k's expiry, two leases after that acquire, and misses the round that
// extends k a slot's life after it. A round later a takes a second slot,
// answered by the master; its goroutine is held (a hook) between the reply
// and keeping the slot while the replica is promoted, the address moves the
// open connections to it, and a round is answered NOSCRIPT there. The
// second slot's goroutine then keeps it. (The new master has the free
// script, loaded by another instance's release: the free of a's second
// slot, which the new master never saw, is not answered NOSCRIPT too.) k
// must not expire under a's first slot, which a's rounds renew on the new
// master: if it does, b takes both slots of k beside a's holder, or a's
// next round finds the slot gone and ends a holder the new master renewed.
// (The round answered NOSCRIPT extends k itself, as its renewals are sent
// again. leaseClock.hold's check of the epoch has a unit test:
// TestForgetHasEveryKeyExtendedAndConfirmsNoRenewalBuiltBefore.)
func TestAcquireAnsweredBeforeAFailoverDoesNotUndoTheRoundsForget(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	const lease = olderExpiryLease
	s := newFailoverSetup(t)
	ctx := ctxWithTimeout(t)
	prefix := testPrefix(t)

	o := s.master.Options()
	o.Addr = s.addr.addr
	client := redis.NewClient(o)
	t.Cleanup(func() { _ = client.Close() })
	aErrs := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: prefix, Lease: lease, ReleaseTimeout: time.Second, OnError: aErrs.add})
	life := redisslot.Life(a)
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*time.Second)) })
	// Its canary's first look forgets the keys' extensions: before k is taken.
	warmUp(t, a)

	answered := make(chan struct{})
	unblock := make(chan struct{})
	var holdReply atomic.Bool // from the second acquire on
	client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if holdReply.Load() {
			close(answered)
			<-unblock // descheduled between the reply and keeping the slot
		}
		return err
	}})

	first, relFirst := mustTry(t, a, ctx, "k", 2)
	defer relFirst()
	acquired := redisslot.KeyKeptSince(a, "k")
	rkey := redisslot.SlotKey(a, "k")
	onMaster, onReplica := s.master.Client(t), s.replica.Client(t)
	member := members(t, onMaster, rkey)[0].Member.(string)
	renewedPast := func(from time.Time) func() bool { // a round sent at from or later renewed the first slot
		return func() bool { return onMaster.ZScore(ctx, rkey, member).Val() >= float64(from.Add(lease).UnixMilli()) }
	}

	// The replica gets a's rounds that renew the slot and leave k's
	// expiry alone, and misses the one that extends k, a slot's life
	// after the acquire, and every write after it.
	eventuallyWithin(t, waitAfter(lease), "a's second round renews its slot", renewedPast(acquired.Add(lease/2)))
	s.synced(t)
	s.link.Freeze()
	restored := onReplica.PExpireTime(ctx, rkey).Val().Milliseconds()
	eventuallyWithin(t, waitAfter(2*lease), "a round extends k, confirmed", func() bool {
		return redisslot.KeyKeptSince(a, "k").After(acquired)
	})
	extended := redisslot.KeyKeptSince(a, "k")
	eventuallyWithin(t, waitAfter(lease), "a's next round renews its slot", renewedPast(extended.Add(lease/6)))

	holdReply.Store(true)
	second := make(chan error, 1)
	var secondCtx context.Context
	go func() {
		sctx, rel, err := a.TryAcquire(ctx, "k", 2)
		if err == nil {
			t.Cleanup(rel)
			secondCtx = sctx
		}
		second <- err
	}()
	recv(t, answered, waitAtOnce, "the master answers a's second acquire")

	s.failOver(t, failoverCase{open: moveConns})
	// Another instance's release has loaded the free script there.
	if err := redisslot.LoadFreeScript(ctx, onReplica); err != nil {
		t.Fatalf("SCRIPT LOAD of the free script on the new master: %v", err)
	}
	noScriptRound := time.Now()
	redisslot.RenewNow(a) // answered NOSCRIPT by the new master: forgets k's extension, and extends k there
	if got := redisslot.KeyKeptSince(a, "k"); !got.IsZero() && got.Before(noScriptRound.Add(-time.Second)) {
		t.Fatalf("k's last extension after the round answered NOSCRIPT: %v, before that round; want it forgotten, or that round's", got)
	}
	close(unblock)
	if err := recv(t, second, waitAtOnce, "a's second acquire returns"); err != nil {
		t.Fatalf("a's second TryAcquire(k, 2): %v; want it admitted by the old master", err)
	}
	kept := redisslot.KeyKeptSince(a, "k")
	b := newFixture(t, s.replica, redisslot.Options{Prefix: prefix, Lease: lease})

	// Until the replica's expiry of k, or a round extends k there.
	eventuallyWithin(t, waitAfter(time.Until(time.UnixMilli(restored))), "k expires on the new master, or a round extends it", func() bool {
		return onReplica.Exists(ctx, rkey).Val() == 0 || onReplica.PExpireTime(ctx, rkey).Val().Milliseconds() > restored || first.Err() != nil
	})
	expired := onReplica.Exists(ctx, rkey).Val() == 0
	var taken int
	for range 2 {
		_, rel, err := b.l.TryAcquire(ctx, "k", 2)
		if err != nil {
			if !errors.Is(err, redisslot.ErrFull) {
				t.Fatalf("b's TryAcquire(k, 2): %v", err)
			}
			break
		}
		defer rel()
		taken++
	}
	aLive := first.Err() == nil
	if expired {
		t.Errorf("k expired on the new master at %d, its first acquire's expiry, under a's first slot, which the new master renewed; b then took %d slots of k (limit 2) with a's first slot %s. The second acquire, answered by the old master and kept after the round answered NOSCRIPT forgot k's extension, recorded k as extended at its send, %v after the first acquire, so no round extended k before %v; want the round after the forget to extend k (a's second slot: %v; OnError got %v)",
			restored, taken, holderState(first),
			kept.Sub(acquired).Round(time.Millisecond), kept.Add(life).Sub(acquired).Round(time.Millisecond), secondState(secondCtx), aErrs.all())
	} else if !aLive {
		t.Fatalf("a's first slot ended (cause %v) though k did not expire on the new master; OnError got %v", context.Cause(first), aErrs.all())
	}
}

// holderState says whether the holder of a's first slot is live beside b's.
func holderState(first context.Context) string {
	if first.Err() == nil {
		return "still live: three holders"
	}
	return "ended, cause " + context.Cause(first).Error() + ", while the new master had renewed it"
}

func secondState(sctx context.Context) string {
	if sctx == nil {
		return "not held"
	}
	if sctx.Err() != nil {
		return "ended, cause " + context.Cause(sctx).Error()
	}
	return "live"
}
