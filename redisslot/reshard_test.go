package redisslot_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// moveSlotSet moves the slot set rkey from servers[source] to fresh, a
// node that addClusterNode added, as a resharding does: it opens the move
// of its hash slot (openMove) and MIGRATEs the key, leaving the move open.
// When t ends, every node is told that fresh owns the hash slot, so that
// Close's frees reach the key.
func moveSlotSet(t *testing.T, ctx context.Context, servers []*redistest.Server, source int, fresh *redistest.Server, rkey string) {
	t.Helper()
	src, dst := servers[source].Client(t), fresh.Client(t)
	slot := keySlot(t, ctx, src, rkey)
	dstID := openMove(t, ctx, src, dst, slot)
	t.Cleanup(func() {
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
}

// openMove marks hash slot as importing on dst and migrating on src, as a
// resharding does before it moves any key, and returns dst's node id.
func openMove(t *testing.T, ctx context.Context, src, dst *redis.Client, slot int64) (dstID string) {
	t.Helper()
	srcID, dstID := nodeID(t, ctx, src), nodeID(t, ctx, dst)
	for _, set := range []struct {
		c    *redis.Client
		args []any
	}{{dst, []any{"importing", srcID}}, {src, []any{"migrating", dstID}}} {
		if err := set.c.Do(ctx, append([]any{"cluster", "setslot", slot}, set.args...)...).Err(); err != nil {
			t.Fatalf("CLUSTER SETSLOT %d %v: %v", slot, set.args, err)
		}
	}
	return dstID
}

// giveUpMove marks hash slot stable on dst and src, as a resharding given
// up does before it moves any key: the slot stays on its source.
func giveUpMove(ctx context.Context, src, dst *redis.Client, slot int64) error {
	return errors.Join(
		dst.Do(ctx, "cluster", "setslot", slot, "stable").Err(),
		src.Do(ctx, "cluster", "setslot", slot, "stable").Err())
}

// keySlot returns the hash slot of key, as c's node tells it.
func keySlot(t *testing.T, ctx context.Context, c *redis.Client, key string) int64 {
	t.Helper()
	slot, err := c.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT: %v", err)
	}
	return slot
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

// limitersWithHeldProbes returns two Limiters of the cluster of servers,
// prefix "p:", Lease a minute: a, with a fallback share of 1 for every
// key, on a client (1s timeouts, one retry) that holds every PING until t
// ends, so that a's fallback state, once on, does not end by a's probe
// answered; and b, with no share. It returns a's client too.
func limitersWithHeldProbes(t *testing.T, ctx context.Context, servers []*redistest.Server) (a, b *redisslot.Limiter, ca *redis.ClusterClient) {
	t.Helper()
	ca = clusterClientOf(t, servers, time.Second)
	probes := make(chan struct{})
	t.Cleanup(func() { close(probes) }) // before the Limiters close
	ca.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cmds[0].Name() == "ping" {
			select {
			case <-probes:
			case <-ctx.Done():
			}
		}
		return next()
	}})
	cb := redistest.ClusterClient(t, servers)
	loadScripts(t, ctx, ca, cb)
	a = redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = a.Close() })
	b = redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })
	return a, b, ca
}
