package redisslot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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
// served from the share: one whose last call failed unreachable and which
// then failed a check too [...]. The check [...] is [...] answered by one
// whose call failed elsewhere: sent on by an ASK or a MOVED to a node that
// does not answer, as a resharding's target. [...] A key whose master
// answers goes to Redis, and its limit holds"; the README's first
// guarantee: "The limit holds".
func TestFallbackShareIsNotServedForAKeyWhoseMasterAnswersWhileAMovesTargetIsStopped(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	m := startMoveToAStoppedTarget(t)
	_, relMoving, err := m.a.TryAcquire(m.ctx, m.moving, 1)
	t.Logf("a.TryAcquire(%q, 1), its hash slot moving to the stopped node = %v (a degraded: %v)", m.moving, err, m.a.Stats().Degraded)
	if relMoving != nil {
		defer relMoving()
	}
	m.yRefused(t)
}

// Calls of one master that fail at a move's stopped target at once share
// checks of the master (Options.Fallback: "Calls of one master share a
// check, and one it answered stands for a second"), and none marks the
// master. A hook on the master's node client counts the checks (EXISTS)
// it is sent: without the sharing, one a call.
func TestCallsFailingAtAMovesStoppedTargetAtOnceShareChecksOfTheirMaster(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	m := startMoveToAStoppedTarget(t)
	var checks atomic.Int64
	m.master.AddHook(scriptHook{any: true, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
		if cmds[0].Name() == "exists" {
			checks.Add(1)
		}
		return next()
	}})
	const calls = 8
	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		first, last time.Time // when the calls returned
	)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, rel, err := m.a.TryAcquire(m.ctx, m.moving, calls); err == nil {
				rel()
			}
			mu.Lock()
			defer mu.Unlock()
			if now := time.Now(); first.IsZero() || now.Before(first) {
				first = now
			}
			last = time.Now()
		}()
	}
	wg.Wait()
	// A call may fail a timeout later than the others (a connection's
	// handshake with the target timed out first): a check stands for a
	// second, so a spread of s allows 1 + s/second checks, and one more for
	// a check that ended up to its bound before the first call returned.
	spread := last.Sub(first)
	if n, most := checks.Load(), 2+int64(spread/time.Second); n < 1 || n > most {
		t.Fatalf("%d calls of %q failed at the stopped target at once (returned within %v); its master was sent %d checks, want 1 to %d",
			calls, m.moving, spread.Round(time.Millisecond), n, most)
	}
	m.yRefused(t)
}

// A moveToAStoppedTarget is a cluster of 3 masters and a new node, the
// target of a move of the hash slot of moving, a key of the source master.
// The source answers ASK for moving's absent key, and serves every other;
// the target is stopped (SIGSTOP), so that a's calls of moving, sent on by
// the ASK, time out. b holds the one slot of y, a key of the source
// outside the moving hash slot. a has a fallback share of 1 for every key.
//
// A hook holds a's probes (PING, through its cluster client) until the
// end: a's first probe answered would end the state at once, and a's
// TryAcquire of y would race it.
type moveToAStoppedTarget struct {
	ctx       context.Context
	a         *redisslot.Limiter
	master    *redis.Client // the source, as a's client reaches it
	moving, y string
	src       *redis.Client
}

func startMoveToAStoppedTarget(t *testing.T) *moveToAStoppedTarget {
	t.Helper()
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	target := addClusterNode(t, ctx, servers)
	const source = 0
	a, b, ca := limitersWithHeldProbes(t, ctx, servers)

	keys := keysOnNode(t, ctx, servers, a, source, 2)
	m := &moveToAStoppedTarget{ctx: ctx, a: a, moving: keys[0], y: keys[1], src: servers[source].Client(t)}
	dst := target.Client(t)
	slot := keySlot(t, ctx, m.src, redisslot.SlotKey(a, m.moving))
	if ys := keySlot(t, ctx, m.src, redisslot.SlotKey(a, m.y)); ys == slot {
		t.Fatalf("%q and %q share hash slot %d; want two", m.moving, m.y, slot)
	}
	master, err := ca.MasterForKey(ctx, redisslot.SlotKey(a, m.moving))
	if err != nil || master.Options().Addr != servers[source].Addr {
		t.Fatalf("a's client names %v (%v) the master of %q; want %s", master, err, m.moving, servers[source].Addr)
	}
	m.master = master
	_, relY := mustTry(t, b, ctx, m.y, 1)
	t.Cleanup(relY)
	if _, _, err := a.TryAcquire(ctx, m.y, 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) before the resharding = %v; want ErrFull", m.y, err)
	}

	openMove(t, ctx, m.src, dst, slot)
	t.Cleanup(func() { // the resharding given up: the slot stays on its source
		_ = dst.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
		_ = m.src.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
	})
	stopUntilCleanup(t, target) // resumed before the cleanups above
	return m
}

// yRefused checks that the source answers, and that a's TryAcquire of y,
// whose one slot b holds in Redis, is refused.
func (m *moveToAStoppedTarget) yRefused(t *testing.T) {
	t.Helper()
	if err := m.src.Ping(m.ctx).Err(); err != nil {
		t.Fatalf("the source master does not answer: %v", err)
	}
	_, rel, err := m.a.TryAcquire(m.ctx, m.y, 1)
	if err == nil {
		rel()
		n, _ := m.src.ZCard(m.ctx, redisslot.SlotKey(m.a, m.y)).Result()
		t.Fatalf("a.TryAcquire(%q, 1) = a slot of the share while b holds its one slot in Redis (%d members), its master answering (a degraded: %v); want ErrFull",
			m.y, n, m.a.Stats().Degraded)
	}
	if !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) = %v; want ErrFull: its master answers", m.y, err)
	}
}
