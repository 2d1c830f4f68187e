package redisslot_test

import (
	"context"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster, a Limiter's pub/sub connection (and its restart
// canary) is on one node: the restart of another node, which forgets the
// slots of its keys, does not break it. The first Limiter whose call finds
// that node's scripts gone must tell the others, or a holder here of a key
// on that node stays live beside the key's new holders until this
// Limiter's next round, a third of a Lease (20s) later.
func TestClusterNodeRestartEndsTheOldHoldersOfEveryLimiter(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	servers := redistest.StartCluster(t, 2)
	ctx := ctxWithTimeout(t)
	a, b := clusterLimiter(t, servers, "p:"), clusterLimiter(t, servers, "p:")
	_, warm := mustTry(t, a, ctx, "warm", 1)
	defer warm()
	// a keeps its canary from its first slot on.
	canaryNode := nodeWithCanary(t, ctx, servers, redisslot.CanaryChannel(a))
	restarted := servers[1-canaryNode]
	key := keyOnNode(t, ctx, servers, a, 1-canaryNode)
	sctx, rel := mustTry(t, a, ctx, key, 1)
	defer rel()

	if err := restarted.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := restarted.Restart(); err != nil { // empty: the slot of key is forgotten
		t.Fatal(err)
	}
	var bRel func()
	eventually(t, "b takes the one slot of key once the restarted node answers", func() bool {
		_, r, err := b.TryAcquire(ctx, key, 1)
		bRel = r
		return err == nil
	})
	defer bRel()
	recv(t, sctx.Done(), waitAtOnce, "a's old holder of key still live after b took its one slot on the restarted node")
}

// nodeWithCanary waits until one node of servers has a subscriber of
// canary (go-redis puts a pub/sub connection on any node), and returns its
// index.
func nodeWithCanary(t *testing.T, ctx context.Context, servers []*redistest.Server, canary string) int {
	t.Helper()
	clients := []*redis.Client{servers[0].Client(t), servers[1].Client(t)}
	found := -1
	eventually(t, "the canary subscribed on a node", func() bool {
		for i, c := range clients {
			if n, err := c.PubSubNumSub(ctx, canary).Result(); err == nil && n[canary] == 1 {
				found = i
				return true
			}
		}
		return false
	})
	return found
}

// clusterLimiter returns a Limiter with prefix on a cluster client of its
// own, closed when t ends.
func clusterLimiter(t *testing.T, servers []*redistest.Server, prefix string) *redisslot.Limiter {
	l := redisslot.New(redistest.ClusterClient(t, servers), redisslot.Options{Prefix: prefix, Lease: longLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = l.Close() })
	return l
}
