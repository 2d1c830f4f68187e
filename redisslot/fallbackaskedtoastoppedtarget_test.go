package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster growing by a new node, a Limiter with a fallback
// share does not serve the share for a key whose master answers every
// call, when a resharding's target does not answer. Options.Fallback: "On
// a Redis Cluster client, [...] only the keys of a master out of reach are
// served from the share: one whose last call failed unreachable [...]. A
// key whose master answers goes to Redis, and its limit holds"; the
// README's first guarantee: "The limit holds".
//
// The source master keeps answering: it answers ASK for the moving hash
// slot's absent key, and serves every other. Only the new node, the
// move's target, is stopped (SIGSTOP), so that a's call of the moving key,
// sent on by the ASK, times out. While b holds the one slot of y, a key of
// the source outside the moving hash slot, a's TryAcquire of y must be
// refused.
//
// A hook holds a's probes (PING) until the end: a's first probe answered
// would end the state at once, and a's TryAcquire of y would race it.
func TestFallbackShareIsNotServedForAKeyWhoseMasterAnswersWhileAMovesTargetIsStopped(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	target := addClusterNode(t, ctx, servers)
	const source = 0
	ca := clusterClientOf(t, servers, time.Second) // 1s timeouts, one retry
	probes := make(chan struct{})
	t.Cleanup(func() { close(probes) })
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
	errs := &errLog{}
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: errs.add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = a.Close() })
	b := redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })

	keys := keysOnNode(t, ctx, servers, a, source, 2)
	moving, y := keys[0], keys[1]
	src, dst := servers[source].Client(t), target.Client(t)
	slot := keySlot(t, ctx, src, redisslot.SlotKey(a, moving))
	if ys := keySlot(t, ctx, src, redisslot.SlotKey(a, y)); ys == slot {
		t.Fatalf("%q and %q share hash slot %d; want two", moving, y, slot)
	}
	_, relY := mustTry(t, b, ctx, y, 1)
	defer relY()
	if _, _, err := a.TryAcquire(ctx, y, 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) before the resharding = %v; want ErrFull", y, err)
	}

	openMove(t, ctx, src, dst, slot)
	t.Cleanup(func() { // the resharding given up: the slot stays on its source
		_ = dst.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
		_ = src.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
	})
	stopUntilCleanup(t, target) // resumed before the cleanups above

	_, relMoving, err := a.TryAcquire(ctx, moving, 1)
	t.Logf("a.TryAcquire(%q, 1), its hash slot moving to the stopped node = %v (a degraded: %v)", moving, err, a.Stats().Degraded)
	if relMoving != nil {
		defer relMoving()
	}
	if err := src.Ping(ctx).Err(); err != nil {
		t.Fatalf("the source master, %s, does not answer: %v", servers[source].Addr, err)
	}
	_, rel, err := a.TryAcquire(ctx, y, 1)
	if err == nil {
		rel()
		n, _ := src.ZCard(ctx, redisslot.SlotKey(a, y)).Result()
		t.Fatalf("a.TryAcquire(%q, 1) = a slot of the share while b holds its one slot in Redis (%d members), its master answering (a degraded: %v); want ErrFull",
			y, n, a.Stats().Degraded)
	}
	if !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) = %v; want ErrFull: its master answers", y, err)
	}
}
