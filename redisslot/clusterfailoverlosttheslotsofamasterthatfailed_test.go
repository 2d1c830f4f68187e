package redisslot_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// failoverLease is a's Lease: its rounds come every minute, so that no
// scheduled round finds the lost slot during the test.
const failoverLease = 3 * time.Minute

// On a Redis Cluster, a master dies (SIGKILL) and its replica, which
// missed the last acquire, takes over (CLUSTER FAILOVER TAKEOVER) at
// another address. a's call of the dead master failed (so a probes every
// 100ms), and the new master has the scripts (it was master once), so no
// call of any instance is answered NOSCRIPT; a's pub/sub connection is on
// the other master. The package documentation promises, for a restart:
// "until each instance looks for its lost slots, old and new holders
// together may exceed the limit. It looks ... or sooner: when one of its
// calls fails (then it probes every 100ms)", and "A failover to a replica
// that missed the last writes forgets the slots they took, and an instance
// looks for them the same ways". So once a's own call on the new master is
// answered (go-redis routes a's calls to the dead address until it
// reloads its view of the cluster: every second here, 60s by default), a's holder of the
// slot the new master never saw must end within restartBound, not live on
// beside b's holder until a's next round, Lease/3 (a minute) later.
func TestClusterFailoverThatLostTheLastAcquireEndsItsHolderAtOnce(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	servers := redistest.StartCluster(t, 2)
	ctx := ctxWithin(t, 2*waitLong)
	ac := reloadingClusterClient(t, servers)
	a := redisslot.New(ac, redisslot.Options{Prefix: "p:", Lease: failoverLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = a.Close() })
	_, warm := mustTry(t, a, ctx, "warm", 1)
	defer warm()
	canaryNode := nodeWithCanary(t, ctx, servers, redisslot.CanaryChannel(a))
	dead := servers[1-canaryNode]
	keys := keysOnNode(t, ctx, servers, a, 1-canaryNode, 3)
	k, failing, answered := keys[0], keys[1], keys[2]

	replica := clusterReplicaOf(t, ctx, servers, dead)
	rc := replica.Client(t)
	if err := redisslot.LoadScripts(ctx, rc); err != nil { // as if it was master once
		t.Fatalf("SCRIPT LOAD on the replica: %v", err)
	}

	const limit = 2
	synced, relSynced := mustTry(t, a, ctx, k, limit)
	defer relSynced()
	dc := dead.Client(t)
	if n, err := dc.Wait(ctx, 1, waitAtOnce).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 on the master = %d, %v; want the replica to acknowledge", n, err)
	}
	resume := stopUntilCleanup(t, replica) // it cannot reconnect and catch up
	if err := dc.ClientKillByFilter(ctx, "TYPE", "replica").Err(); err != nil {
		t.Fatalf("CLIENT KILL TYPE replica: %v", err)
	}
	missed, relMissed := mustTry(t, a, ctx, k, limit) // the replica never sees it
	defer relMissed()

	if err := dead.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.TryAcquire(ctx, failing, 1); err == nil {
		t.Fatalf("a's TryAcquire of a key of the killed master: nil error; want it to fail")
	}
	resume()
	if err := rc.Do(ctx, "CLUSTER", "FAILOVER", "TAKEOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER TAKEOVER: %v", err)
	}
	eventually(t, "the replica is a master of the cluster, which is ok", func() bool {
		info, err := rc.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_size:2")
	})

	b := redisslot.New(reloadingClusterClient(t, servers), redisslot.Options{Prefix: "p:", Lease: failoverLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })
	var taken context.Context
	eventually(t, "b takes a slot of k on the new master", func() bool {
		sctx, rel, err := b.TryAcquire(ctx, k, limit)
		if err != nil {
			return false
		}
		t.Cleanup(rel)
		taken = sctx
		return true
	})
	if _, _, err := b.TryAcquire(ctx, k, limit); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("b's second TryAcquire of k: %v; want ErrFull: the new master knows a's synced slot", err)
	}
	failover := time.Now()
	eventuallyWithin(t, waitLong, "a's client routes the dead master's keys to the new master", func() bool {
		c, err := ac.MasterForKey(ctx, redisslot.SlotKey(a, answered))
		return err == nil && c.Options().Addr == replica.Addr
	})
	// No call of a fails after its client routes to the new master: the
	// mark of the failure is on the old master's address.
	_, relAnswered := mustTry(t, a, ctx, answered, 1)
	defer relAnswered()
	reached := time.Now()
	t.Logf("a's first call answered by the new master %v after b's admission", reached.Sub(failover).Round(time.Millisecond))

	select {
	case <-missed.Done():
		t.Logf("a's holder of the missed slot ended %v after a's call was answered", time.Since(reached).Round(time.Millisecond))
	case <-time.After(restartBound):
		t.Errorf("a's holder of a slot the new master never saw still live %v after a's call was answered by the new master, beside b's holder of k (limit %d, 3 holders); want it to end within %v (a's next round is %v after its last)",
			time.Since(reached).Round(time.Millisecond), limit, restartBound, redisslot.RenewEvery(a))
	}
	if synced.Err() != nil || taken.Err() != nil {
		t.Errorf("a's synced holder ended (%v) or b's did (%v); want both live", context.Cause(synced), context.Cause(taken))
	}
}

// clusterReplicaOf starts a cluster node, has it meet servers, and makes
// it a replica of master, waiting until it knows every node and its link
// is up.
func clusterReplicaOf(t *testing.T, ctx context.Context, servers []*redistest.Server, master *redistest.Server) *redistest.Server {
	t.Helper()
	r := redistest.StartWith(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
	rc, mc := r.Client(t), master.Client(t)
	if err := mc.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatalf("CONFIG SET repl-diskless-sync-delay: %v", err)
	}
	for _, s := range servers {
		host, port, _ := net.SplitHostPort(s.Addr)
		if err := rc.ClusterMeet(ctx, host, port).Err(); err != nil {
			t.Fatalf("CLUSTER MEET: %v", err)
		}
	}
	id, err := mc.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatalf("CLUSTER MYID: %v", err)
	}
	eventually(t, "the new node knows every node, and the cluster ok", func() bool {
		info, err := rc.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok") &&
			strings.Contains(info, "cluster_known_nodes:3\r")
	})
	if err := rc.Do(ctx, "CLUSTER", "REPLICATE", id).Err(); err != nil {
		t.Fatalf("CLUSTER REPLICATE: %v", err)
	}
	eventually(t, "the new node's link to the master is up", func() bool {
		info, err := rc.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	return r
}

// reloadingClusterClient returns a client of servers, closed when t ends,
// as redistest.ClusterClient's but reloading its view of the cluster every
// second, so that its calls reach a new master soon after a failover.
func reloadingClusterClient(t *testing.T, servers []*redistest.Server) *redis.ClusterClient {
	t.Helper()
	return redistest.ClusterClient(t, servers, func(o *redis.ClusterOptions) { o.ClusterStateReloadInterval = time.Second })
}
