package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// A round answered NOSCRIPT looks for the slots a failover lost itself,
// and marks a look (roundAsks), so that an acquire answered by the old
// master and kept after the round asks a round of its own
// (TestRoundAnsweredNoScriptEndsASlotKeptAfterTheRound). But the round
// learns of the NOSCRIPT only once its calls are answered, after it was
// built: an acquire kept between the round's build and its NOSCRIPT is in
// no renewal of the round, and finds roundAsks unchanged when it checks.
// Its slot must still be looked for.
//
// Here a holds a slot of k0, synced to the replica, and its canary is
// confirmed; then the replica's link is cut. a's acquire of k (limit 1) is
// answered by the master, and its goroutine is held (a hook) between the
// reply and keeping the slot while the replica is promoted and the address
// moves the open connections to it. a's next round is built (one renewal,
// of k0); as it sends its EVALSHA (a hook), a's acquire keeps its slot and
// returns; then the new master answers NOSCRIPT, the round forgets, marks
// and sends its renewal of k0 again. b then takes k (limit 1) on the new
// master, which never saw a's slot of k. a's holder of k must end within
// restartBound; if it does not, it lives beside b's until a's next round,
// a third of a Lease (20s) later.
func TestRoundAnsweredNoScriptEndsASlotKeptWhileTheRoundWasOnItsWay(t *testing.T) {
	s := newFailoverSetup(t)
	prefix := testPrefix(t)
	ctx := ctxWithTimeout(t)
	a, ac := s.limiter(t, prefix)

	answered, unblock := make(chan struct{}), make(chan struct{})
	var holdReply atomic.Bool
	var unblocked atomic.Bool
	release := func() {
		if unblocked.CompareAndSwap(false, true) {
			close(unblock)
		}
	}
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
	var keepInRound atomic.Bool
	kept := make(chan struct{}) // a's acquire of k returned
	ac.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cmds[0].Name() == "evalsha" && keepInRound.CompareAndSwap(true, false) {
			release() // the round is built; its calls are not yet answered
			select {
			case <-kept:
			case <-hctx.Done():
			}
		}
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
		close(kept)
	}()
	recv(t, answered, waitAtOnce, "the master answers a's acquire of k")

	s.failOver(t, failoverCase{open: moveConns}) // the new master has no script
	asked := redisslot.RoundsAsked(a)
	keepInRound.Store(true)
	redisslot.RenewRound(a) // a's next round, as its timer runs it; a's acquire keeps its slot as the round is sent
	if keepInRound.Load() {
		t.Fatalf("a's round sent no EVALSHA of the renewal script")
	}
	if noScript.Load() == 0 {
		t.Fatalf("a's round after the failover was not answered NOSCRIPT: this test is of one that is")
	}
	r := recv(t, second, waitAtOnce, "a's acquire of k returns")
	if r.err != nil {
		t.Fatalf("a's TryAcquire(k, 1): %v; want it admitted by the master before the failover", r.err)
	}
	keptAt := time.Now()

	b, _ := s.limiter(t, prefix)
	_, relB := mustTry(t, b, ctx, "k", 1) // the new master never saw a's slot of k
	defer relB()

	select {
	case <-r.ctx.Done():
		if got := context.Cause(r.ctx); got != redisslot.ErrLeaseLost {
			t.Errorf("a's slot of k ended with cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, admitted by the old master and kept while a's round was on its way to the new master, which answered it NOSCRIPT, still held %v after it was kept, beside b's (limit 1): the round was built before the slot was kept and saw none of k, and marked its look (looks asked %d before it, %d after) only once answered, after the acquire had checked the asks; so no round looked for it; a's next round is %v after its last",
			time.Since(keptAt).Round(time.Millisecond), asked, redisslot.RoundsAsked(a), redisslot.RenewEvery(a))
	}
}
