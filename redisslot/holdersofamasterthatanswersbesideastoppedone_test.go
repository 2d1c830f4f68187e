package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// On a Redis Cluster one of whose masters stops (SIGSTOP), the holders of
// several keys of another master, which answers every call at once, keep
// their slots while requests go on trying the stopped master's keys, as a
// gateway's do. The package documentation says: "a master that does not
// answer fails only the calls of its keys, and the holders of other
// masters' keys keep their leases"; Options.Lease, that a live holder keeps
// its slot while Redis confirms each background call of its Limiter within
// Lease/4.
//
// The near keys are in hash slots of their own, so a round renews them in
// calls of their own. The acquires of the stopped master's key fail after
// the client's ReadTimeout (1s), within each round's 2s (Lease/3) at the
// stopped master: each round is settled while the Limiter's view of Redis
// is down. Its first renewal answered flips that view back up, which makes
// the lease clock forget (renewer.go settleRenewals -> health.note ->
// back -> roundNow -> leaseClock.forget); the round's other renewals, built
// before that forget, then confirm nothing (leaseClock.renewed), though
// the master that answers answered each of them.
func TestHoldersOfAMasterThatAnswersKeepTheirSlotsWhileRequestsTryAStoppedOne(t *testing.T) {
	t.Parallel()                   // it mostly waits on servers of its own
	const lease = 12 * time.Second // rounds every 4s, the margin 600ms: a round that waits on a timeout (1s) is a quarter of the interval
	const nearKeys = 6
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
	near := keysOnNode(t, ctx, servers, a, healthy, nearKeys)
	holdAbandoned(t, a, ctx, far, 1) // a's rounds call the master to be stopped
	lostOne := make(chan int, nearKeys)
	unblock := make(chan struct{})
	var watchers sync.WaitGroup
	ctxs := make([]context.Context, nearKeys)
	for i, key := range near {
		sctx, rel := mustTry(t, a, ctx, key, 1)
		defer rel()
		ctxs[i] = sctx
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			select {
			case <-sctx.Done():
				lostOne <- i
			case <-unblock:
			}
		}()
	}

	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()
	stoppedAt := time.Now()
	answeredBefore := answered.Load()

	// Requests go on trying the stopped master's key, as a gateway's do:
	// each fails at the client's ReadTimeout.
	var tries atomic.Int64
	var requests sync.WaitGroup
	requests.Add(1)
	go func() {
		defer requests.Done()
		for {
			select {
			case <-unblock:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, lease)
			_, rel, err := a.TryAcquire(rctx, far, 100)
			cancel()
			if err == nil {
				rel()
				continue
			}
			tries.Add(1)
		}
	}()
	defer func() {
		close(unblock)
		waitAll(t, &requests, 2*lease, "the requests to the stopped master returned")
		waitAll(t, &watchers, time.Second, "the watchers returned")
	}()

	window := time.NewTimer(2 * lease) // a span to watch, not a condition to wait for
	defer window.Stop()
	select {
	case <-window.C:
	case i := <-lostOne:
		lostAt := time.Since(stoppedAt).Round(time.Millisecond)
		var lost []string
		for j, sctx := range ctxs {
			if sctx.Err() != nil {
				lost = append(lost, fmt.Sprintf("%s (%v)", near[j], context.Cause(sctx)))
			}
		}
		t.Errorf("the slot of %q, on a master that answers, ended %v after another master stopped (cause %v); want it kept. holders ended by then: %d of %d %v; the master that answers answered %d renewal calls since, without error; %d acquires of the stopped master's key failed meanwhile",
			near[i], lostAt, context.Cause(ctxs[i]), len(lost), nearKeys, lost, answered.Load()-answeredBefore, tries.Load())
		if !errors.Is(context.Cause(ctxs[i]), redisslot.ErrLeaseLost) {
			t.Errorf("cause %v; want ErrLeaseLost", context.Cause(ctxs[i]))
		}
		return
	}
	for j, key := range near {
		if n, err := servers[healthy].Client(t).ZCard(ctx, redisslot.SlotKey(a, key)).Result(); err != nil || n != 1 {
			t.Errorf("ZCARD of %q's slot set on its master = %d, %v; want 1 (holder %d)", key, n, err, j)
		}
	}
}
