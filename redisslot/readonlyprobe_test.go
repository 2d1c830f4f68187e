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
// PONG by each probe. Counting READONLY as Redis out of reach must not turn
// that into a loop: the probe's answer runs a round at once, the round's
// calls are answered READONLY again, and the next probe runs another. With
// rounds Lease/3 (20s) apart, the Limiter has nothing to send for 20 probe
// intervals after a round.
func TestLimiterOnAReplicaDoesNotRunARoundAtEveryProbe(t *testing.T) {
	srv, empty := redistest.Start(t), redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // rounds 20s apart, probes 100ms
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	srv.ReplicaOf(t, empty, empty.Addr) // demoted under its address
	f.count.Reset()
	redisslot.RoundSoon(f.l) // the renewer's own round, answered READONLY
	eventually(t, "the renewer's round sends the renewal of k", func() bool { return f.count.ByName("evalsha") > 0 })
	f.count.Reset()
	const periods = 20
	quietFor(t, periods, redisslot.ProbeEvery(f.l), func() string {
		if n := f.count.ByName("evalsha"); n > 0 {
			return fmt.Sprintf("the Limiter sent %d script calls within %d probe intervals after a round answered READONLY; want none before its next round, %v away",
				n, periods, redisslot.RenewEvery(f.l))
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
