package redisslot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// fixedPicker is a go-redis ShardPicker that sends every keyless command
// (PUBLISH among them) to the same master, as the default round-robin one
// does for every other.
type fixedPicker struct{ i int }

func (p fixedPicker) Next(total int) int { return p.i % total }

// On a Redis Cluster, PUBLISH has no key: go-redis sends it to any master.
// A Limiter that found the scripts of one node gone tells the others there
// in its next round; if the master the publish goes to does not answer,
// that must not cost the renewals of slots on a node that answers: their
// holders must keep their slots.
func TestStalledNodeUnderTheRestartMessageDoesNotEndHoldersOnOtherNodes(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	servers := redistest.StartCluster(t, 2)
	ctx := ctxWithTimeout(t)
	o := servers[0].Options()
	addrs := []string{servers[0].Addr, servers[1].Addr}
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, ContextTimeoutEnabled: true, DialTimeout: o.DialTimeout,
		ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout, MaxRetries: o.MaxRetries,
		ShardPicker: fixedPicker{0},
	})
	t.Cleanup(func() { _ = client.Close() })
	info, err := client.Do(ctx, "client", "info").Text()
	if err != nil {
		t.Fatalf("CLIENT INFO: %v", err)
	}
	stalled := -1
	for i, s := range servers {
		if strings.Contains(info, "laddr="+s.Addr+" ") {
			stalled = i
		}
	}
	if stalled < 0 {
		t.Fatalf("CLIENT INFO %q names neither node %v", info, addrs)
	}
	healthy := 1 - stalled

	l := redisslot.New(client, redisslot.Options{Prefix: "p:", Lease: testLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = l.Close() })
	key := keyOnNode(t, ctx, servers, l, healthy)
	other := ""
	for i := 0; other == ""; i++ { // a second key on the healthy node
		k := fmt.Sprint("o", i)
		slot, err := servers[healthy].Client(t).ClusterKeySlot(ctx, redisslot.SlotKey(l, k)).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT: %v", err)
		}
		if int(slot*2/16384) == healthy {
			other = k
		}
	}
	sctx, rel := mustTry(t, l, ctx, key, 1)
	defer rel()
	redisslot.RenewNow(l)

	// The healthy node forgets the acquire script (as a restart would, but
	// keeping the slot), and the other master stops answering.
	hc := servers[healthy].Client(t)
	if err := hc.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := redisslot.LoadScriptsButAcquire(ctx, hc); err != nil {
		t.Fatal(err)
	}
	defer stopUntilCleanup(t, servers[stalled])()

	// A call finds the acquire script gone on the healthy node (loading it
	// again on every master then fails: one is stopped).
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, r2, err := l.TryAcquire(tctx, other, 1)
	cancel()
	if err == nil {
		r2()
	}

	end := time.Now().Add(4 * testLease)
	for time.Now().Before(end) {
		if err := context.Cause(sctx); err != nil {
			t.Fatalf("slot of a key on the node that answers ended %v after the other master stopped: %v; want it renewed", 4*testLease-time.Until(end), err)
		}
		time.Sleep(50 * time.Millisecond) // sampling, not waiting for a condition
	}
}
