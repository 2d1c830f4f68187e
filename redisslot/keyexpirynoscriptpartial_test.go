package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// Promise 1, for an instance cut off from Redis, across a failover that no
// call sees fail (see TestRoundAnsweredNoScriptExtendsTheKeysOfTheRenewalsItSendsAgain):
// a round that hears NOSCRIPT knows that Redis may be a promoted replica
// that missed the last writes. Another instance that reached the new
// master first may have loaded some scripts there and not others: a's
// round then finds its renewals answered and a later call of the same
// pipeline, a free, answered NOSCRIPT. The round must not confirm leases
// that outlive a key's expiry on the new master, even if no later round
// gets through.
//
// Here a takes k (limit 1) and k2; once two rounds have renewed them, the
// replica's link is cut: the replica keeps k as that round left it, and
// misses the next round. Held in that round (a hook) once its pipeline is
// answered, the replica,
// where another instance has loaded the renewal script alone, is promoted
// and the address moves the open connections to it; a's release of k2 has
// begun, its free pending. a's next round renews k's slot there, and its
// free of k2 is answered NOSCRIPT and sent again; then a's network to Redis
// holds every byte (the in-test proxy, frozen). a's slot lives, by a's
// clock, a slot's life after that round. k must not expire before then, at
// the expiry the new master has from before the round it missed: if it
// does, b takes k (limit 1) beside a's holder.
func TestRoundAnsweredNoScriptByAFreeConfirmsNoLeaseOutlivingItsKey(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	const lease = olderExpiryLease
	s := newFailoverSetup(t)
	ctx := ctxWithTimeout(t)
	prefix := testPrefix(t)

	a, client, cut, aErrs := cutOffLimiter(t, s, prefix)
	life := redisslot.Life(a)
	rkey := redisslot.SlotKey(a, "k")

	var armed, failedOver atomic.Bool
	extended, moved := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { closeOnce(moved) }) // before a closes
	var roundSent atomic.Int64             // when a's first round after the failover was sent, Unix ns
	client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		at, armedAtSend := time.Now(), armed.Load() // armed: sent after the cut
		err := next()
		switch {
		case failedOver.Load():
			roundSent.CompareAndSwap(0, at.UnixNano())
		case armedAtSend && armed.Load() && renews(cmds, rkey):
			armed.Store(false)
			close(extended)
			select { // the failover comes while the round is held here
			case <-moved:
			case <-hctx.Done():
			}
		}
		return err
	}})
	var resent atomic.Int64 // when the free sent again after NOSCRIPT was answered, Unix ns
	renewed := make(chan struct{})
	client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if failedOver.Load() && err == nil && cmds[0].Err() == nil && resent.CompareAndSwap(0, time.Now().UnixNano()) {
			cut.Freeze() // a is cut off from Redis from now on
			close(renewed)
		}
		return err
	}})

	first, relFirst := mustTry(t, a, ctx, "k", 1)
	defer relFirst()
	_, relK2 := mustTry(t, a, ctx, "k2", 1)
	defer relK2()
	acquired := redisslot.LeaseConfirmedAt(a, "k")
	onMaster, onReplica := s.master.Client(t), s.replica.Client(t)
	member := members(t, onMaster, rkey)[0].Member.(string)
	renewedPast := func(from time.Time) func() bool { // a round sent at from or later renewed the slot
		return func() bool { return onMaster.ZScore(ctx, rkey, member).Val() >= float64(from.Add(lease).UnixMilli()) }
	}

	// The replica gets a's first two rounds, and misses the next and every
	// write after it.
	eventuallyWithin(t, waitAfter(lease), "a's second round renews its slot", renewedPast(acquired.Add(lease/2)))
	s.synced(t)
	s.link.Freeze()
	cutAt := time.Now()
	armed.Store(true)
	restored := onReplica.PExpireTime(ctx, rkey).Val()
	recv(t, extended, waitAfter(2*lease), "a's round after the cut is answered")
	// Another instance's round reached the new master first.
	if err := redisslot.LoadRenewScript(ctx, onReplica); err != nil {
		t.Fatalf("SCRIPT LOAD of the renewal script on the replica: %v", err)
	}
	s.failOver(t, failoverCase{open: moveConns})
	if n := redisslot.BeginRelease(a, "k2"); n != 1 {
		t.Fatalf("BeginRelease(k2) let go of %d slots; want 1", n)
	}
	failedOver.Store(true)
	closeOnce(moved)
	eventually(t, "the round after the cut is confirmed", func() bool {
		return redisslot.LeaseConfirmedAt(a, "k").After(cutAt)
	})

	recv(t, renewed, waitAfter(lease), "a's next round, its free answered NOSCRIPT by the new master, sends it again and is answered")
	sent := time.Unix(0, roundSent.Load())
	slotEnds := sent.Add(life) // by a's clock, at the latest
	expiresAt := time.UnixMilli(restored.Milliseconds())
	if !expiresAt.Before(slotEnds) {
		return // k outlives a's slot on the new master: no one can take it beside a's holder
	}

	// Until k's older expiry on the new master.
	eventuallyWithin(t, waitAfter(time.Until(expiresAt)), "k expires on the new master, or a's slot ends", func() bool {
		return onReplica.Exists(ctx, rkey).Val() == 0 || first.Err() != nil
	})
	if first.Err() != nil {
		return // a's slot ended first: nobody could take it beside it
	}
	b := newFixture(t, s.replica, redisslot.Options{Prefix: prefix, Lease: lease})
	_, rel, err := b.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		if !errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("b's TryAcquire(k, 1): %v", err)
		}
		return
	}
	defer rel()
	if first.Err() == nil {
		t.Errorf("k expired on the new master at its older expiry, %v after a's round whose renewal the new master answered and whose free it answered NOSCRIPT; a confirmed that renewal, and b took k (limit 1) while a's holder is live, by a's clock until %v after that round (a's OnError, cut off: %v); want a round that hears NOSCRIPT to confirm no lease that outlives its key there",
			expiresAt.Sub(sent).Round(time.Millisecond), life, aErrs.all())
	}
}

// renews reports whether one of cmds, renewal calls, names rkey.
func renews(cmds []redis.Cmder, rkey string) bool {
	for _, c := range cmds {
		args := c.Args()
		if len(args) < 3 {
			continue
		}
		n, _ := args[2].(int)
		for i := 0; i < n && 3+i < len(args); i++ {
			if fmt.Sprint(args[3+i]) == rkey {
				return true
			}
		}
	}
	return false
}

// closeOnce closes c unless it is closed.
func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}
