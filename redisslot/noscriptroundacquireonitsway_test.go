package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// A round answered NOSCRIPT looks for the slots a failover lost itself
// (see TestRoundAnsweredNoScriptExtendsTheKeysOfTheRenewalsItSendsAgain):
// it sends its renewals again and ends the slots the new master no longer
// has. It looks only at the slots held when it was built. An acquire
// answered by the old master before the failover, whose goroutine keeps
// its slot only after that round, is held by no slot the round saw: its
// slot must still be looked for, as it is after a round asked at once
// (TestRestartFoundWhileAnAcquiresReplyIsOnItsWayEndsItsSlot) or after the
// canary's first look (TestRestartBeforeTheCanarysFirstLookEndsASlotKeptAfterTheLook).
//
// Here a holds a slot of k0, synced to the replica, and its canary is
// confirmed; then the replica's link is cut. a's acquire of k (limit 1) is
// answered by the master, and its goroutine is held (a hook) between the
// reply and keeping the slot while the replica is promoted and the address
// moves the open connections to it (a's subscription stays behind). a's
// next round is answered NOSCRIPT there, sent again, and confirms k0. b
// then takes k (limit 1) on the new master, which never saw a's slot of k.
// a's acquire keeps that slot. Its holder must end within restartBound; if
// it does not, it lives beside b's until a's next round, a third of a
// Lease (20s) later.
func TestRoundAnsweredNoScriptEndsASlotKeptAfterTheRound(t *testing.T) {
	s := newFailoverSetup(t)
	prefix := testPrefix(t)
	ctx := ctxWithTimeout(t)
	a, ac := s.limiter(t, prefix)

	answered, unblock := make(chan struct{}), make(chan struct{})
	var holdReply atomic.Bool
	ac.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if holdReply.CompareAndSwap(true, false) {
			close(answered)
			select { // descheduled between the reply and keeping the slot
			case <-unblock:
			case <-hctx.Done():
			}
		}
		return err
	}})
	var noScript atomic.Int64 // renewal calls sent again, as EVAL, after NOSCRIPT
	ac.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		for _, c := range cmds {
			if c.Name() == "eval" {
				noScript.Add(1)
			}
		}
		return err
	}})

	_, relK0 := mustTry(t, a, ctx, "k0", 1)
	defer relK0()
	redisslot.RenewRound(a) // a Limiter that has run a round keeps its restart canary
	eventually(t, "a's restart canary is subscribed and its first look done", func() bool {
		return redisslot.CanaryConfirmed(a) && redisslot.CanaryChecked(a)
	})
	s.synced(t)
	s.link.Freeze() // the replica misses what follows: a's slot of k

	holdReply.Store(true)
	var unblocked atomic.Bool
	release := func() {
		if unblocked.CompareAndSwap(false, true) {
			close(unblock)
		}
	}
	t.Cleanup(release) // before a closes
	type result struct {
		ctx context.Context
		err error
	}
	second := make(chan result, 1)
	go func() {
		sctx, rel, err := a.TryAcquire(ctx, "k", 1)
		if err == nil {
			t.Cleanup(rel)
		}
		second <- result{sctx, err}
	}()
	recv(t, answered, waitAtOnce, "the master answers a's acquire of k")

	s.failOver(t, failoverCase{open: moveConns}) // the new master has no script
	asked := redisslot.RoundsAsked(a)
	redisslot.RenewRound(a) // a's next round, as its timer runs it
	if noScript.Load() == 0 {
		t.Fatalf("a's round after the failover was not answered NOSCRIPT: this test is of one that is")
	}

	b, _ := s.limiter(t, prefix)
	_, relB := mustTry(t, b, ctx, "k", 1) // the new master never saw a's slot of k
	defer relB()

	release()
	r := recv(t, second, waitAtOnce, "a's acquire of k returns")
	if r.err != nil {
		t.Fatalf("a's TryAcquire(k, 1): %v; want it admitted by the master before the failover", r.err)
	}
	kept := time.Now()

	select {
	case <-r.ctx.Done():
		if got := context.Cause(r.ctx); got != redisslot.ErrLeaseLost {
			t.Errorf("a's slot of k ended with cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, admitted by the old master and kept after a's round answered NOSCRIPT by the new master, still held %v after it was kept, beside b's (limit 1): the round saw no slot of k, and marked no look (looks asked %d before it, %d after), so the acquire asked no round; a's next round is %v after its last",
			time.Since(kept).Round(time.Millisecond), asked, redisslot.RoundsAsked(a), redisslot.RenewEvery(a))
	}
}
