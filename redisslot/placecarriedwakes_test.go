package redisslot_test

import (
	"slices"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// A try that carries the free of a waiter's place, first in line, while
// others wait and a slot is free, must wake those whose turn it now is, as
// a free call that takes out the first in line does: that free, sent later,
// finds nothing left to take out and wakes nobody. Here the place is
// "left/1", put ahead of B's waiter by hand, as a waiter that gave up on
// another Limiter leaves it; the slot's free woke only "left/1"; B's
// waiter, whose retry is a minute away, is woken by nothing else.
func TestTryCarryingAPlaceInLineWakesTheWaitersWhoseTurnItIs(t *testing.T) {
	a, rel, result := waiterWokenOnlyByScripts(t)
	ctx := ctxWithTimeout(t)

	slot := redisslot.SlotKey(a.l, "k")
	order, until := redisslot.QueueKeys(a.l, "k")
	queued := members(t, a.client, order)
	if len(queued) != 1 {
		t.Fatalf("queue of k = %v; want B's waiter", queued)
	}
	const left = "left/1"
	if err := a.client.ZAdd(ctx, order, redis.Z{Score: queued[0].Score - 1, Member: left}).Err(); err != nil {
		t.Fatalf("ZADD queue: %v", err)
	}
	if err := a.client.ZAdd(ctx, until, redis.Z{Score: 1 << 50, Member: left}).Err(); err != nil {
		t.Fatalf("ZADD entry ends: %v", err)
	}
	rel()
	eventually(t, "the released slot's free lands", func() bool { return len(members(t, a.client, slot)) == 0 })

	keys := []string{slot, order, until, redisslot.TombstoneKey(a.l, "k")}
	args := []any{"try/1", 1, longLease.Milliseconds(), "try", 0, redisslot.EntryTTL.Milliseconds(), 0, 1, left}
	res, err := a.client.EvalSha(ctx, redisslot.AcquireHash, keys, args...).Int64Slice()
	if err != nil || !slices.Equal(res, []int64{0, 0, 0}) {
		t.Fatalf("the try carrying the place = %v, %v; want [0 0 0]: full, as B's waiter is first in line", res, err)
	}
	if err := recv(t, result, waitAtOnce, "B's waiter not woken after a try took out the place ahead of it"); err != nil {
		t.Fatalf("B's Acquire = %v; want a slot", err)
	}
}
