package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Limiter whose client reaches a replica (a master demoted under a fixed
// address) is answered READONLY by each script and PONG by each probe.
// Counting READONLY as Redis out of reach must not turn that into a loop:
// the probe's answer runs a round at once, the round's calls are answered
// READONLY again, and the next probe runs another. Its pending free goes to
// Redis at once and then once a round (Lease/3), not once a probe.
func TestLimiterOnAReplicaDoesNotRunARoundAtEveryProbe(t *testing.T) {
	master, replica := redistest.Start(t), redistest.Start(t)
	replica.ReplicaOf(t, master, master.Addr)
	f := newFixture(t, replica, redisslot.Options{Lease: 3 * time.Second}) // rounds 1s apart, probes 100ms
	ctx := ctxWithTimeout(t)
	if _, rel, err := f.l.TryAcquire(ctx, "k", 1); err == nil {
		rel()
		t.Fatal("TryAcquire on a replica got a slot")
	} else {
		t.Logf("TryAcquire on a replica: %v", err)
	}
	f.count.Reset()
	const watch = 2 * time.Second // two rounds
	time.Sleep(watch)             // counting what the Limiter sends meanwhile
	if n := f.count.ByName("evalsha"); n > 4 {
		t.Errorf("the Limiter sent %d script calls in %v to a replica that answers each READONLY; want at most 4 (its pending free at once, then once a round, every %v)",
			n, watch, redisslot.RenewEvery(f.l))
	}
	t.Logf("OnError: %d reports", len(f.errs.all()))
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
