package redisslot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// On a Redis Cluster whose masters all answer, a Limiter with a fallback
// share does not serve the share for a key that Redis admits to: while b
// holds the one slot of key x, a's TryAcquire of x is refused, though a
// call of a's was answered TRYAGAIN because a resharding has opened the
// hash slot of another key of x's master. Options.Fallback serves the
// share "while Redis cannot be reached (a network error, a timeout, Redis
// loading or a cluster down; not an answer such as out of memory or a
// replica's READONLY)", and on a cluster "only the keys of a master out of
// reach"; the README promises that the limit holds.
//
// A hook holds a's probes (PING) until the end: a's first probe answered
// would end the state at once, and a's TryAcquire of x would race it.
func TestFallbackShareIsNotServedForAKeyOfAMasterThatAnswersTryAgain(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	const source, target = 1, 2
	a, b, _ := limitersWithHeldProbes(t, ctx, servers)

	keys := keysOnNode(t, ctx, servers, a, source, 2)
	moving, x := keys[0], keys[1]
	src, dst := servers[source].Client(t), servers[target].Client(t)
	slot := keySlot(t, ctx, src, redisslot.SlotKey(a, moving))
	if xs, err := src.ClusterKeySlot(ctx, redisslot.SlotKey(a, x)).Result(); err != nil || xs == slot {
		t.Fatalf("CLUSTER KEYSLOT of %q = %d, %v; want a hash slot other than %d", x, xs, err, slot)
	}
	_, relMoving := mustTry(t, b, ctx, moving, 2) // the moving hash slot holds a slot set
	defer relMoving()
	_, relX := mustTry(t, b, ctx, x, 1)
	defer relX()
	if _, _, err := a.TryAcquire(ctx, x, 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) before the resharding = %v; want ErrFull", x, err)
	}

	openMove(t, ctx, src, dst, slot)
	t.Cleanup(func() { // the resharding given up: the slot stays on its source
		_ = dst.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
		_ = src.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
	})

	_, relA, err := a.TryAcquire(ctx, moving, 2)
	t.Logf("a.TryAcquire(%q, 2), its hash slot open = %v (a degraded: %v)", moving, err, a.Stats().Degraded)
	if relA != nil {
		defer relA()
	}
	_, rel, err := a.TryAcquire(ctx, x, 1)
	if err == nil {
		rel()
		n, _ := src.ZCard(ctx, redisslot.SlotKey(a, x)).Result()
		t.Fatalf("a.TryAcquire(%q, 1) = a slot of the share while b holds its one slot in Redis (%d members), every master answering (a degraded: %v); want ErrFull",
			x, n, a.Stats().Degraded)
	}
	if !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) = %v; want ErrFull: its master answers", x, err)
	}
}
