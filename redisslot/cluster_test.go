package redisslot_test

import (
	"fmt"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 9: on Redis Cluster, every script touches only the key in KEYS.
// A cluster node refuses a script that touches a key another node owns, so
// this test, with slot sets on both nodes of a two-node cluster, fails if a
// script touches any key but its own. It also runs the pipelined renewal
// and Close across nodes, and wake-ups published on one node and heard on
// the other.
func TestWorksOnRedisClusterWithKeysOnEveryNode(t *testing.T) {
	servers := redistest.StartCluster(t, 2)
	ctx := ctxWithTimeout(t)
	errs := &errLog{}
	newLimiter := func() *redisslot.Limiter {
		c := redistest.ClusterClient(t, servers)
		if err := redisslot.LoadScripts(ctx, c); err != nil {
			t.Fatalf("SCRIPT LOAD: %v", err)
		}
		l := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: testLease, OnError: errs.add})
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
	a, b := newLimiter(), newLimiter()
	redisslot.SetRetryInterval(b, noRetry) // only wake-ups move b's waiters

	// One key on each node: the first node owns the lower half of the slots.
	raw := redistest.ClusterClient(t, servers)
	var keys []string
	for i := 0; len(keys) < 2; i++ {
		key := fmt.Sprint("k", i)
		holding, err := raw.ClusterKeySlot(ctx, redisslot.SlotKey(a, key)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if (holding < 8192) == (len(keys) == 0) {
			keys = append(keys, key)
		}
	}

	var rels []func()
	for _, key := range keys {
		for range 2 {
			_, rel := mustTry(t, a, ctx, key, 2)
			rels = append(rels, rel)
		}
	}
	redisslot.RenewNow(a) // one pipeline, split over both nodes
	out := make(chan outcome, len(keys))
	for i, key := range keys {
		queueAcquire(t, b, ctx, key, 2, i, out)
	}
	rels[0]() // a slot of keys[0]
	rels[2]() // a slot of keys[1]
	for range keys {
		r := nextOutcome(t, out)
		if r.err != nil {
			t.Fatalf("Acquire on the cluster: %v", r.err)
		}
		defer r.rel()
	}
	for _, key := range keys {
		if n, err := b.InUse(ctx, key); err != nil || n != 2 {
			t.Errorf("InUse(%q) = %d, %v; want 2", key, n, err)
		}
	}
	// Load pipelines its calls, which go-redis splits by node.
	loads, err := b.Load(ctx, keys...)
	if err != nil {
		t.Fatalf("Load across nodes: %v", err)
	}
	for i, key := range keys {
		if want := (redisslot.Load{Key: key, InUse: 2}); loads[i] != want {
			t.Errorf("Load[%d] = %+v; want %+v", i, loads[i], want)
		}
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close across nodes: %v", err)
	}
	for _, key := range keys {
		if n, err := b.InUse(ctx, key); err != nil || n != 1 {
			t.Errorf("InUse(%q) after Close = %d, %v; want 1", key, n, err)
		}
	}
	if errs := errs.all(); len(errs) > 0 {
		t.Errorf("OnError got %v; want nothing", errs)
	}
}

var _ redis.UniversalClient = (*redis.ClusterClient)(nil)
