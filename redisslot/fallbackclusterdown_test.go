package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster that is down (cluster-require-full-coverage yes, the
// default, and one master failed: every node answers CLUSTERDOWN to every
// key), a Limiter with a fallback share serves the share, also for a key
// whose own master is up. Options.Fallback says it "keeps the service going
// while Redis cannot be reached (a network error, a timeout, Redis loading
// or a cluster down; not an answer such as out of memory, a replica's
// READONLY or a resharding's TRYAGAIN)", and the README that with a share
// "each instance admits up to its share of each key on its own" while Redis
// is away. A master that answers CLUSTERDOWN to every key still answers
// PING, which has no key: the check of a master must name the key.
func TestFallbackServesTheShareWhileTheClusterIsDown(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	const lease = 3 * time.Second
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	for _, s := range servers { // the cluster finds a stopped master failed sooner
		if err := s.Client(t).ConfigSet(ctx, "cluster-node-timeout", "1000").Err(); err != nil {
			t.Fatalf("CONFIG SET cluster-node-timeout 1000: %v", err)
		}
	}
	const stopped, up = 0, 1
	c := clusterClientOf(t, servers, time.Second) // as the package documentation advises
	loadScripts(t, ctx, c)
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: errs.add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = a.Close() })

	near := keyOnNode(t, ctx, servers, a, up)
	_, rel := mustTry(t, a, ctx, near, 1) // Redis answers: a slot of Redis's
	rel()

	defer stopUntilCleanup(t, servers[stopped])()
	upClient := servers[up].Client(t)
	rkey := redisslot.SlotKey(a, near)
	down := func() bool { return redis.HasErrorPrefix(upClient.ZCard(ctx, rkey).Err(), "CLUSTERDOWN") }
	eventuallyWithin(t, waitLong, "the master that is up answers CLUSTERDOWN", down)

	// Redis answers no call of any key: the share serves near.
	var err error
	deadline := time.Now().Add(waitAfter(lease))
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		var rel func()
		_, rel, err = a.TryAcquire(tctx, near, 1)
		cancel()
		if err == nil {
			rel()
			return
		}
		time.Sleep(pollInterval)
	}
	ping := upClient.Ping(ctx).Err()
	t.Fatalf("a.TryAcquire(%q, 1) while the cluster is down = %v for %v (a degraded: %v; the key's master still down: %v, answers PING: %v); want a slot of the share",
		near, err, waitAfter(lease), a.Stats().Degraded, down(), ping)
}
