package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// On a Redis Cluster one of whose masters stops (SIGSTOP), a holder of a
// key of another master, which answers every call at once, keeps its slot
// while requests go on, each taking a slot of a key of each master, as a
// gateway's do. The package documentation says: "a master that does not
// answer fails only the calls of its keys, and the holders of other
// masters' keys keep their leases"; Options.Lease, that a live holder keeps
// its slot while Redis confirms each background call of its Limiter within
// Lease/4.
//
// The holder's key is alone on its master, so a round renews it in one
// call, confirmed before any other of the round is noted. Each request's
// acquire of the stopped master's key fails after the client's ReadTimeout
// (1s), which sets the Limiter's view of Redis down; the next request's
// acquire of the other master's key is answered, which sets it back up,
// and the lease clock forgets (acquire.go try -> health.note -> back ->
// roundNow -> leaseClock.forget), once a second, within each round's 2s
// (Lease/3) at the stopped master: the holder's renewal, built before that
// forget, confirms nothing (leaseClock.renewed), though its master
// answered it.
func TestHolderOnAMasterThatAnswersKeepsItsSlotWhileRequestsSpanItAndAStoppedOne(t *testing.T) {
	t.Parallel()                   // it mostly waits on servers of its own
	const lease = 12 * time.Second // rounds every 4s, the margin 600ms: a round that waits on a timeout (1s) is a quarter of the interval
	// The parent of the slots outlives the setup and the window.
	ctx := ctxWithin(t, waitLong+2*lease)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	c := clusterClientOf(t, servers, time.Second) // as the package documentation advises
	answered := renewalsAnsweredBy(c, servers[healthy].Addr)
	loadScripts(t, ctx, c)
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	nearKeys := keysOnNode(t, ctx, servers, a, healthy, 2)
	held, other := nearKeys[0], nearKeys[1]
	holdAbandoned(t, a, ctx, far, 1) // a's rounds call the master to be stopped
	hctx, rel := mustTry(t, a, ctx, held, 1)
	defer rel()

	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()
	stoppedAt := time.Now()
	answeredBefore := answered.Load()

	// Requests: each takes a slot of other (on the master that answers),
	// then one of far (on the stopped master), and releases what it got.
	var requests, failed atomic.Int64
	unblock := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-unblock:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, lease)
			_, relOther, err := a.TryAcquire(rctx, other, 100)
			if err != nil {
				cancel()
				t.Errorf("TryAcquire(%q) on the master that answers: %v", other, err)
				return
			}
			if _, relFar, err := a.TryAcquire(rctx, far, 100); err == nil {
				relFar()
			} else {
				failed.Add(1)
			}
			relOther()
			cancel()
			requests.Add(1)
		}
	}()
	defer func() {
		close(unblock)
		recv(t, finished, 2*lease, "the requests returned")
	}()

	window := time.NewTimer(2 * lease) // a span to watch, not a condition to wait for
	defer window.Stop()
	select {
	case <-window.C:
	case <-hctx.Done():
		t.Errorf("the slot of %q, on a master that answers, ended %v after another master stopped (cause %v); want it kept. its master answered %d renewal calls since, without error; %d requests ran meanwhile, %d of them failed at the stopped master",
			held, time.Since(stoppedAt).Round(time.Millisecond), context.Cause(hctx), answered.Load()-answeredBefore, requests.Load(), failed.Load())
		if !errors.Is(context.Cause(hctx), redisslot.ErrLeaseLost) {
			t.Errorf("cause %v; want ErrLeaseLost", context.Cause(hctx))
		}
		return
	}
	if n, err := servers[healthy].Client(t).ZCard(ctx, redisslot.SlotKey(a, held)).Result(); err != nil || n != 1 {
		t.Errorf("ZCARD of %q's slot set on its master = %d, %v; want 1", held, n, err)
	}
}
