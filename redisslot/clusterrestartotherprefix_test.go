package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// On a Redis Cluster, a Limiter's restart canary is on one node, and the
// restart of another node, which forgets the slots of its keys, does not
// break it: the Limiter learns of the restart only from another Limiter of
// its Prefix, whose call found that node's scripts gone (NOSCRIPT). But the
// script cache is shared by every Prefix, and the restart message is not:
// it goes on the canary of the finder's Prefix alone.
//
// Here a (Prefix "p:") holds the one slot of key, on the node that
// restarts; c, a Limiter of another Prefix ("q:", another service or
// another Limiter of the same gateway on the same cluster), is the first
// to call that node after its restart: it finds the acquire script gone,
// loads it again and tells the Limiters of "q:". Then b, of a's Prefix,
// takes key (limit 1): its acquire finds the script loaded, so nobody
// tells a, and a's holder, lost in the restart, lives on beside b's until
// a's next round, Lease/3 (20s) after its acquire: two holders of a key of
// limit 1, where guarantee 5 has it end once another instance tells it.
func TestClusterNodeRestartFoundByAnotherPrefixEndsTheOldHolders(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	servers := redistest.StartCluster(t, 2)
	ctx := ctxWithTimeout(t)
	a, b, c := clusterLimiter(t, servers, "p:"), clusterLimiter(t, servers, "p:"), clusterLimiter(t, servers, "q:")
	_, warm := mustTry(t, a, ctx, "warm", 1)
	defer warm()
	// a keeps its canary from its first slot on; b subscribes its own with
	// its first slot, below.
	canaryNode := nodeWithCanary(t, ctx, servers, redisslot.CanaryChannel(a))
	restarted := servers[1-canaryNode]
	key := keyOnNode(t, ctx, servers, a, 1-canaryNode)
	other := keyOnNode(t, ctx, servers, c, 1-canaryNode)
	sctx, rel := mustTry(t, a, ctx, key, 1)
	defer rel()

	if err := restarted.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := restarted.Restart(); err != nil { // empty: the slot of key is forgotten
		t.Fatal(err)
	}
	var cRel func()
	eventually(t, "c, of another Prefix, takes a slot on the restarted node", func() bool {
		_, r, err := c.TryAcquire(ctx, other, 1)
		cRel = r
		return err == nil
	})
	defer cRel()
	_, bRel, err := b.TryAcquire(ctx, key, 1)
	if err != nil {
		t.Fatalf("b's TryAcquire of key, whose one slot the restart forgot: %v; want a slot", err)
	}
	defer bRel()
	taken := time.Now()
	select {
	case <-sctx.Done():
		if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
			t.Errorf("a's old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(waitAtOnce):
		t.Fatalf("a's old holder of key still live %v after b took its one slot on the restarted node (limit 1): two holders; a's next round is %v after its acquire",
			time.Since(taken).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}
