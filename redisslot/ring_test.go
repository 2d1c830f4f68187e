package redisslot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A redis.Ring client works: its first slot opens the pub/sub connection
// on the shard of the restart canary's channel (a Ring subscribes on one
// shard, named by a channel: go-redis panics with none), and a waiter on
// another instance is woken by pub/sub when the slot it waits for is
// released, for a key whose wake-ups go to that shard. Its retry timer is
// far off, so only the wake-up can serve it in time.
func TestRingClientHandsOutSlotsAndWakesItsWaiters(t *testing.T) {
	one, two := redistest.Start(t), redistest.Start(t)
	newRing := func() *redis.Ring {
		r := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"one": one.Addr, "two": two.Addr}})
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	ringA, ringB := newRing(), newRing()
	prefix := testPrefix(t)
	a := redisslot.New(ringA, redisslot.Options{Prefix: prefix, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(waitAtOnce)) })
	b := redisslot.New(ringB, redisslot.Options{Prefix: prefix, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, b, waitAfter(waitAtOnce)) })
	redisslot.SetRetryInterval(b, time.Minute)
	ctx := ctxWithTimeout(t)

	canaryShard, err := ringA.GetShardClientForKey(redisslot.CanaryChannel(a))
	if err != nil {
		t.Fatal(err)
	}
	key := ""
	for i := 0; key == ""; i++ {
		k := fmt.Sprint("k", i)
		if sh, err := ringA.GetShardClientForKey(redisslot.WakeChannel(a, k)); err == nil && sh.Options().Addr == canaryShard.Options().Addr {
			key = k
		}
	}

	var rel func()
	if v := recoverFrom(func() { _, rel = mustTry(t, a, ctx, key, 1) }); v != nil {
		t.Fatalf("TryAcquire on a Ring client panicked: %v", v)
	}
	served := waitingAcquire(t, ctx, b, key, 1)
	eventually(t, "b's wake-up subscription is on the canary's shard", func() bool {
		n, err := canaryShard.PubSubNumSub(ctx, redisslot.WakeChannel(b, key)).Result()
		return err == nil && n[redisslot.WakeChannel(b, key)] == 1
	})
	rel()
	if err := recv(t, served, waitAtOnce, "b's Acquire returns once a's slot is released"); err != nil {
		t.Fatalf("b's Acquire(%q, 1) on a Ring client, after a's holder released = %v; want a slot, b woken by pub/sub", key, err)
	}
}
