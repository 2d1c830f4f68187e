package redisslot_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster that a resharding grows by a new master, a slot whose
// slot set the move has carried to the new node keeps its lease while
// every node answers. The package documentation promises: "A call answered
// NOSCRIPT (a script cache emptied, or a node new to the cluster) is sent
// again as EVAL, to the node that runs it, which then keeps the script.
// While a resharding moves a key's hash slot, Redis may answer its calls
// TRYAGAIN: [...] its leases are kept, or lost, as in a stall."
//
// Here nothing stalls and nothing answers TRYAGAIN: the renewal names one
// slot set, which the source answers ASK and the importing node, whose
// script cache has never held the scripts, answers NOSCRIPT. The script
// must reach that node for the renewal to go through; the test fails if the
// holder's lease is lost within three Leases of the move beginning. (A
// second key held keeps the round a pipeline of two calls, as on any busy
// gateway: a round of one call falls back to EVAL, which follows the ASK.)
func TestHolderOfAKeyMovedToANewNodeKeepsItsLeaseThroughTheMove(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	fresh := addClusterNode(t, ctx, servers)
	const source = 0
	const lease = time.Second

	c := clusterClientOf(t, servers, time.Second)
	errs := &errLog{}
	l := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: errs.add})
	t.Cleanup(func() { _ = l.Close() })

	moving := keyOnNode(t, ctx, servers, l, source)
	other := keyOnNode(t, ctx, servers, l, 1) // a round sends two calls: a pipeline
	held, relMoving := mustTry(t, l, ctx, moving, 2)
	defer relMoving()
	_, relOther := mustTry(t, l, ctx, other, 2)
	defer relOther()

	src, dst := servers[source].Client(t), fresh.Client(t)
	rkey := redisslot.SlotKey(l, moving)
	slot, err := src.ClusterKeySlot(ctx, rkey).Result()
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT: %v", err)
	}
	srcID, dstID := nodeID(t, ctx, src), nodeID(t, ctx, dst)
	for _, set := range []struct {
		c    *redis.Client
		args []any
	}{{dst, []any{"importing", srcID}}, {src, []any{"migrating", dstID}}} {
		if err := set.c.Do(ctx, append([]any{"cluster", "setslot", slot}, set.args...)...).Err(); err != nil {
			t.Fatalf("CLUSTER SETSLOT %d %v: %v", slot, set.args, err)
		}
	}
	t.Cleanup(func() { // the move ends, so that Close's frees reach the key
		for _, s := range append(servers, fresh) {
			cl := redis.NewClient(s.Options())
			_ = cl.Do(context.Background(), "cluster", "setslot", slot, "node", dstID).Err()
			_ = cl.Close()
		}
	})
	host, port, _ := net.SplitHostPort(fresh.Addr)
	if err := src.Migrate(ctx, host, port, rkey, 0, 5*time.Second).Err(); err != nil {
		t.Fatalf("MIGRATE %s to the new node: %v", rkey, err)
	}
	moved := time.Now()

	// Every node answers: the new one holds the member, with its lease.
	asking := dst.Pipeline()
	asking.Do(ctx, "asking")
	card := asking.ZCard(ctx, rkey)
	if _, err := asking.Exec(ctx); err != nil || card.Val() != 1 {
		t.Fatalf("ASKING, ZCARD %s on the new node = %d, %v; want 1 member", rkey, card.Val(), err)
	}

	const within = 3 * lease
	deadline := time.After(within)
	for {
		select {
		case <-held.Done():
			var noScript []string
			for _, err := range errs.all() {
				if strings.Contains(err.Error(), "NOSCRIPT") {
					noScript = append(noScript, err.Error())
				}
			}
			t.Fatalf("slot of %q lost %v after its slot set moved to a node that answers (cause %v); renewals answered NOSCRIPT: %q",
				moving, time.Since(moved).Round(time.Millisecond), context.Cause(held), noScript)
		case <-deadline:
			if err := context.Cause(held); err != nil {
				t.Fatalf("slot of %q ended: %v", moving, err)
			}
			return
		}
	}
}

// addClusterNode starts a cluster node with no hash slot, has it meet the
// cluster of servers, and waits until every node knows every other.
func addClusterNode(t *testing.T, ctx context.Context, servers []*redistest.Server) *redistest.Server {
	t.Helper()
	fresh := redistest.StartWith(t, "--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
	host, port, _ := net.SplitHostPort(servers[0].Addr)
	p, _ := strconv.Atoi(port)
	if err := fresh.Client(t).ClusterMeet(ctx, host, strconv.Itoa(p)).Err(); err != nil {
		t.Fatalf("CLUSTER MEET: %v", err)
	}
	all := append(append([]*redistest.Server(nil), servers...), fresh)
	want := "cluster_known_nodes:" + strconv.Itoa(len(all)) + "\r"
	for _, s := range all {
		cl := s.Client(t)
		eventuallyWithin(t, 10*time.Second, "node "+s.Addr+" knows the new node", func() bool {
			info, err := cl.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, want) && strings.Contains(info, "cluster_state:ok")
		})
	}
	return fresh
}

// nodeID returns the cluster node id of the node c is a client of.
func nodeID(t *testing.T, ctx context.Context, c *redis.Client) string {
	t.Helper()
	id, err := c.ClusterMyID(ctx).Result()
	if err != nil {
		t.Fatalf("CLUSTER MYID: %v", err)
	}
	return id
}
