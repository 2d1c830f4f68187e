package redisslot_test

import (
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A redis.Ring client works: its first slot opens the pub/sub connection
// on the shard of the restart canary's channel (a Ring subscribes only on
// one shard, named by a channel), and a waiter on that Limiter is woken by
// the release of the slot it waits for.
func TestRingClientHandsOutSlotsAndWakesItsWaiters(t *testing.T) {
	srv := redistest.Start(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"one": srv.Addr}})
	t.Cleanup(func() { _ = ring.Close() })
	l := redisslot.New(ring, redisslot.Options{Prefix: testPrefix(t), OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, l, waitAfter(waitAtOnce)) })
	ctx := ctxWithTimeout(t)

	var rel func()
	if v := recoverFrom(func() { _, rel = mustTry(t, l, ctx, "k", 1) }); v != nil {
		t.Fatalf("TryAcquire on a Ring client panicked: %v", v)
	}
	served := waitingAcquire(t, ctx, l, "k", 1)
	rel()
	if err := recv(t, served, waitAtOnce, "the waiter's Acquire returns once the slot is released"); err != nil {
		t.Fatalf("Acquire(k, 1) on a Ring client, after the holder released = %v; want a slot", err)
	}
	raw := srv.Client(t)
	eventually(t, "k's slots are freed", func() bool { return raw.ZCard(ctx, redisslot.SlotKey(l, "k")).Val() == 0 })
}
