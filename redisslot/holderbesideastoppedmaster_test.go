package redisslot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster one of whose masters stops (SIGSTOP), a holder of a
// key of another master, which answers every call at once, keeps its slot.
// Options.Lease says: "A live holder keeps its slot while Redis confirms each
// background call of its Limiter (renewals, and the frees that a round may
// wait behind) within Lease/4; a round is cut off at Lease/3, so that the
// next goes out in time"; the package documentation, that while one master
// does not answer "only the frees of its keys wait ... neither renewal
// rounds nor other masters hold them up"; the README, "The limit holds,
// even for an instance cut off from Redis" and, for the share, that one
// instance cut off risks its own share: here no instance is cut off from
// the master that answers.
//
// The client is the one the package documentation advises for request
// paths. The round that goes to both masters is cut off at Lease/3 at the
// stopped one. go-redis then ends the pipeline by setting ctx's error on
// each of its commands without one, those the master that answers did
// answer too (ClusterClient.processPipeline: the sleep before its retry
// finds ctx done), unless the Limiter keeps the replies it read. And had each round's answer
// after its failure made the lease clock forget (Redis back, maybe
// restarted), as it did, a renewal confirmed after that forget would count
// for nothing.
func TestHolderOnAMasterThatAnswersKeepsItsSlotWhileAnotherMasterStops(t *testing.T) {
	t.Parallel()                  // it mostly waits on servers of its own: it runs beside other such tests
	const lease = 6 * time.Second // rounds every 2s, the margin 300ms
	// The parent of the slots outlives the setup and the window.
	ctx := ctxWithin(t, waitLong+2*lease)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	c := clusterClientOf(t, servers, time.Second) // as the package documentation advises
	var mu sync.Mutex
	var rounds []time.Time // renewal calls sent to the master that answers
	c.AddHook(scriptHook{any: true, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
		for _, cmd := range cmds {
			if scriptOf(cmd) == redisslot.RenewHash {
				mu.Lock()
				rounds = append(rounds, time.Now())
				mu.Unlock()
				break
			}
		}
		return next()
	}})
	var answered atomic.Int64 // renewals the master that answers answered, seen on its own connection
	var nearKey atomic.Value  // the near key's slot set
	nearKey.Store("")
	c.OnNewNode(func(node *redis.Client) {
		node.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
			err := next()
			for _, cmd := range cmds {
				if args := cmd.Args(); len(args) > 3 && args[3] == nearKey.Load() && cmd.Err() == nil {
					answered.Add(1)
				}
			}
			return err
		}})
	})
	loadScripts(t, ctx, c)
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	nearKey.Store(redisslot.SlotKey(a, near))
	holdAbandoned(t, a, ctx, far, 1) // a's rounds call the master to be stopped
	nctx, rel := mustTry(t, a, ctx, near, 1)
	defer rel()

	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()
	stoppedAt := time.Now()
	answeredBefore := answered.Load()

	// The near holder must stay live for the whole window: its master
	// answers every renewal at once.
	window := time.NewTimer(2 * lease) // a span to watch, not a condition to wait for
	defer window.Stop()
	select {
	case <-window.C:
	case <-nctx.Done():
		lostAt := time.Since(stoppedAt)
		mu.Lock()
		var sends []time.Duration // a's renewal sends, from the stop
		for _, r := range rounds {
			sends = append(sends, r.Sub(stoppedAt).Round(time.Millisecond))
		}
		mu.Unlock()
		t.Fatalf("the slot of %q, on a master that answers, ended %v after another master stopped (cause %v); want it kept: its renewals are confirmed at once. its master answered %d of its renewals since, without error, on its own connection; a's renewal calls sent at %v from the stop (want one every Lease/3 = %v); OnError: %v",
			near, lostAt.Round(time.Millisecond), context.Cause(nctx), answered.Load()-answeredBefore, sends, lease/3, errs.all())
	}
	if n, err := servers[healthy].Client(t).ZCard(ctx, redisslot.SlotKey(a, near)).Result(); err != nil || n != 1 {
		t.Fatalf("ZCARD of %q's slot set on its master = %d, %v; want 1", near, n, err)
	}
}
