package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Limiter whose client reaches a replica (a master demoted under a fixed
// address, while a slot is held) is answered READONLY by each renewal and
// PONG by each probe. A round so answered runs again, so that one of its
// calls may reach a new master, but only until it has been sent over each
// connection the client had open (go-redis closes a connection answered
// READONLY): then the Limiter has nothing to send for 20 probe intervals,
// its next round Lease/3 (20s) away. Counting READONLY as Redis out of
// reach would turn that into a loop: the probe's answer runs a round at
// once, its calls are answered READONLY again, and the next probe runs
// another.
func TestLimiterOnAReplicaDoesNotRunARoundAtEveryProbe(t *testing.T) {
	srv, empty := redistest.Start(t), redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // rounds 20s apart, probes 100ms
	warmUp(t, f.l)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	srv.ReplicaOf(t, empty, empty.Addr) // demoted under its address
	conns := int64(f.client.PoolStats().TotalConns)
	rounds := f.l.Stats().RenewalRounds
	redisslot.RoundSoon(f.l) // the renewer's own round, answered READONLY
	var reruns int64
	eventually(t, "the round answered READONLY and its runs again", func() bool {
		reruns = redisslot.ReadOnlyReruns(f.l)
		return reruns > 0 && f.l.Stats().RenewalRounds >= rounds+1+uint64(reruns)
	})
	if reruns > conns+1 {
		t.Errorf("the round answered READONLY runs again %d times; want at most %d, one more than the client's %d connections", reruns, conns+1, conns)
	}
	f.count.Reset()
	const periods = 20
	quietFor(t, periods, redisslot.ProbeEvery(f.l), func() string {
		if n, got := f.count.ByName("evalsha"), f.l.Stats().RenewalRounds; n > 0 || got != rounds+1+uint64(reruns) {
			return fmt.Sprintf("the Limiter sent %d script calls within %d probe intervals after a round answered READONLY and its %d runs again, %d rounds in all; want none before its next round, %v away",
				n, periods, reruns, got-rounds, redisslot.RenewEvery(f.l))
		}
		return ""
	})
}

// A replica refuses a script that writes before running it: READONLY, like
// OOM, means the acquire never ran and can hold no slot. It must leave no
// unsure free (and so no tombstone) behind, as an acquire refused out of
// memory leaves none (TestAcquireRefusedOutOfMemoryLeavesNoFreeBehind).
func TestAcquireAnsweredReadOnlyLeavesNoFreeBehind(t *testing.T) {
	master, replica := redistest.Start(t), redistest.Start(t)
	replica.ReplicaOf(t, master, master.Addr)
	f := newFixture(t, replica, redisslot.Options{Lease: longLease})
	var frees atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		frees.Add(1)
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel, err := f.l.TryAcquire(ctx, "k", 1)
	if rel != nil {
		rel()
	}
	if !redis.HasErrorPrefix(errors.Unwrap(err), "READONLY") {
		t.Fatalf("TryAcquire on a replica: %v; want Redis's READONLY error, wrapped", err)
	}
	raw := replica.Client(t)
	if err := raw.ReplicaOf(ctx, "no", "one").Err(); err != nil { // the failover completes
		t.Fatalf("REPLICAOF NO ONE: %v", err)
	}
	eventually(t, "no free pending once the replica is master", func() bool {
		redisslot.RenewNow(f.l)
		return f.l.Stats().PendingFrees == 0
	})
	if n := frees.Load(); n != 0 {
		t.Errorf("%d free calls after an acquire answered READONLY; want none: it never ran", n)
	}
	if n := raw.Exists(ctx, redisslot.TombstoneKey(f.l, "k")).Val(); n != 0 {
		t.Errorf("a tombstone set exists after an acquire answered READONLY; want none")
	}
}
