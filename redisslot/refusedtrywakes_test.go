package redisslot_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A try whose member has a tombstone is refused, but the frees it carries
// are removed all the same. This happens to a waiter's try written before a
// stall, that Redis runs after the free of its member. When such a try
// frees a slot while others wait, it must wake those whose turn it is, as
// any free does: nobody else will, since a copy of those frees sent later
// finds nothing left to remove. Here B's waiter, whose retry is a minute
// away, is woken by nothing else.
func TestFreesCarriedByARefusedTryWakeTheWaitersWhoseTurnItIs(t *testing.T) {
	a, rel, result := waiterWokenOnlyByScripts(t)
	defer rel()
	ctx := ctxWithTimeout(t)

	slot := redisslot.SlotKey(a.l, "k")
	held := members(t, a.client, slot)
	if len(held) != 1 {
		t.Fatalf("slot set of k = %v; want A's one slot", held)
	}
	const ghost = "ghost/1" // a waiter freed as unsure, whose try Redis runs late
	if err := a.client.ZAdd(ctx, redisslot.TombstoneKey(a.l, "k"), redis.Z{Score: 1 << 50, Member: ghost}).Err(); err != nil {
		t.Fatalf("ZADD tombstone: %v", err)
	}
	order, until := redisslot.QueueKeys(a.l, "k")
	keys := []string{slot, order, until, redisslot.TombstoneKey(a.l, "k")}
	args := []any{ghost, 1, longLease.Milliseconds(), "wait", 0, redisslot.EntryTTL.Milliseconds(), 1, 0, held[0].Member}
	res, err := a.client.EvalSha(ctx, redisslot.AcquireHash, keys, args...).Int64Slice()
	if err != nil || !slices.Equal(res, []int64{5, 0, 0}) {
		t.Fatalf("the late try carrying A's free = %v, %v; want [5 0 0]: refused, its member freed before", res, err)
	}
	if err := recv(t, result, waitAtOnce, "B's waiter not woken after a refused try freed the slot it waits for"); err != nil {
		t.Fatalf("B's Acquire = %v; want a slot", err)
	}
}

// As any free does, a refused try that frees a slot drops the waiters whose
// entry ended before it wakes the one whose turn it is. Otherwise the dead
// head of the line (a crashed instance's waiter) takes the wake-up, and
// the live waiter behind it waits for an entry renewal or its retry. Here
// B's entry renewals fail, its retry is a minute away, and its entry is
// made to outlive the test: only the refused try can wake it.
func TestRefusedTryDropsLapsedWaitersBeforeItWakes(t *testing.T) {
	var entries callGate
	a, rel, result := waiterWokenOnlyByScripts(t, scriptHook{hash: redisslot.RenewWaitersHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return entries.pass(next, func() error { return failWith(cmds, errors.New("test: entry renewal held back")) })
	}})
	defer rel()
	entries.shut(t) // no renewal on its way can drop the dead head added below
	ctx := ctxWithTimeout(t)

	slot, tomb := redisslot.SlotKey(a.l, "k"), redisslot.TombstoneKey(a.l, "k")
	order, until := redisslot.QueueKeys(a.l, "k")
	queued := a.client.ZRange(ctx, order, 0, -1).Val()
	if len(queued) != 1 {
		t.Fatalf("queue of k = %v; want B's one waiter", queued)
	}
	const dead, ghost = "dead/1", "ghost/1"
	for _, cmd := range []*redis.IntCmd{
		a.client.ZAdd(ctx, until, redis.Z{Score: 1 << 50, Member: queued[0]}), // B's entry outlives the test
		a.client.ZAdd(ctx, order, redis.Z{Score: 0, Member: dead}),            // the head of the line,
		a.client.ZAdd(ctx, until, redis.Z{Score: 1, Member: dead}),            // whose entry ended long ago
		a.client.ZAdd(ctx, tomb, redis.Z{Score: 1 << 50, Member: ghost}),
	} {
		if err := cmd.Err(); err != nil {
			t.Fatalf("%v: %v", cmd.Args(), err)
		}
	}
	held := members(t, a.client, slot)
	keys := []string{slot, order, until, tomb}
	args := []any{ghost, 1, longLease.Milliseconds(), "wait", 0, redisslot.EntryTTL.Milliseconds(), 1, 0, held[0].Member}
	res, err := a.client.EvalSha(ctx, redisslot.AcquireHash, keys, args...).Int64Slice()
	if err != nil || !slices.Equal(res, []int64{5, 0, 0}) {
		t.Fatalf("the late try carrying A's free = %v, %v; want [5 0 0]: refused, its member freed before", res, err)
	}
	if err := recv(t, result, waitAtOnce, "B's waiter not woken: the refused try's wake-up went to the dead head of the line"); err != nil {
		t.Fatalf("B's Acquire = %v; want a slot", err)
	}
}

// waiterWokenOnlyByScripts has a take k (limit 1) and b, whose client has
// hooks, wait for k with its retry a minute away. Once the waiter's join,
// and the try it makes once subscribed to wake-ups, have returned, only a
// wake-up makes it try. It returns a, the release of a's slot, and what
// b's Acquire returns.
func waiterWokenOnlyByScripts(t *testing.T, hooks ...redis.Hook) (*fixture, func(), <-chan error) {
	t.Helper()
	srv := redistest.Shared(t)
	a := newFixture(t, srv, redisslot.Options{Lease: longLease})
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(b.l, longLease)
	var tries atomic.Int64
	b.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		defer tries.Add(1)
		return next()
	}})
	for _, h := range hooks {
		b.client.AddHook(h)
	}
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, a.l, ctx, "k", 1)
	result := waitingAcquire(t, ctx, b.l, "k", 1)
	eventually(t, "B's waiter's join and first try return", func() bool { return tries.Load() >= 2 })
	return a, rel, result
}
