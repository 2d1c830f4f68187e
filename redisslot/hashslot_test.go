package redisslot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The renewer's hash slots are Redis Cluster's: CRC16 of the key or of its
// hash tag, modulo 16384, checked against CLUSTER KEYSLOT.
func TestHashSlotIsRedisClusters(t *testing.T) {
	servers := redistest.StartCluster(t, 2)
	raw := redistest.ClusterClient(t, servers)
	ctx := ctxWithTimeout(t)
	keys := []string{"", "a", "foo", "123456789", "{user1000}.following", "{user1000}.followers",
		"foo{}{bar}", "foo{{bar}}zap", "foo{bar}{zap}", "{", "}{", "é{ü}"}
	for i := range 200 {
		keys = append(keys, fmt.Sprint("slots:user:", i))
	}
	for _, key := range keys {
		want, err := raw.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := redisslot.HashSlot(key); int64(got) != want {
			t.Errorf("HashSlot(%q) = %d; CLUSTER KEYSLOT says %d", key, got, want)
		}
	}

	// A renewal round on a cluster client sends one call per hash slot.
	c := redistest.ClusterClient(t, servers)
	var mu sync.Mutex
	calls := map[redis.Cmder]bool{} // a cluster client's hooks run again on its nodes' clients
	c.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		mu.Lock()
		for _, cmd := range cmds {
			calls[cmd] = true
		}
		mu.Unlock()
		return next()
	}})
	if err := redisslot.LoadScripts(ctx, c); err != nil {
		t.Fatalf("SCRIPT LOAD: %v", err)
	}
	errs := &errLog{}
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, OnError: errs.add})
	defer l.Close()
	warmUp(t, l) // the round of its canary's first confirmation is past
	mu.Lock()
	clear(calls)
	mu.Unlock()
	for _, key := range []string{"{a}1", "{a}2", "{a}3", "{b}1", "{b}2", "c"} {
		_, rel := mustTry(t, l, ctx, key, 1)
		defer rel()
	}
	redisslot.RenewNow(l)
	if n := len(calls); n != 3 {
		t.Errorf("renewing 6 keys in 3 hash slots sent %d script calls; want 3", n)
	}
	if errs := errs.all(); len(errs) > 0 {
		t.Errorf("OnError got %v; want nothing", errs)
	}
}
