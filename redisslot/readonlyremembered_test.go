package redisslot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A READONLY answer has the next acquire answered otherwise run a round
// at once, to find the slots a failover lost (health.acquired). Once a
// round answered after the READONLY has run and found them, that is done:
// the READONLY must not stay remembered until some later acquire, which
// then runs a round for nothing (an acquire made hours later).
func TestReadOnlyFollowedByAnAnsweredRoundRunsNoLaterRound(t *testing.T) {
	srv, empty := redistest.Start(t), redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // no round of its own within the test
	var renewals atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		renewals.Add(1)
		return next()
	}})
	ctx := ctxWithTimeout(t)
	sctx, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	raw := srv.Client(t)

	srv.ReplicaOf(t, empty, empty.Addr) // demoted: the slot of k is lost
	redisslot.RenewNow(f.l)             // answered READONLY
	if err := raw.ReplicaOf(ctx, "no", "one").Err(); err != nil {
		t.Fatalf("REPLICAOF NO ONE: %v", err)
	}
	if err := redisslot.LoadScripts(ctx, raw); err != nil { // no NOSCRIPT to run a round of its own
		t.Fatal(err)
	}
	eventually(t, "a round answered by the master again finds the slot of k lost", func() bool {
		redisslot.RenewNow(f.l)
		return sctx.Err() != nil
	})
	if err := redisslot.LoadScripts(ctx, raw); err != nil {
		t.Fatal(err)
	}

	before := renewals.Load()
	_, rel2 := mustTry(t, f.l, ctx, "k2", 1) // long after, say
	defer rel2()
	const periods = 20 // of the renewer's timer while Redis is down, 100ms; its next round is Lease/3 (20s) away
	quietFor(t, periods, redisslot.ProbeEvery(f.l), func() string {
		if n := renewals.Load() - before; n > 0 {
			return fmt.Sprintf("an acquire after the round that found the failover's losses ran another round (%d renewal calls at once); want none before Lease/3 (%v)",
				n, redisslot.RenewEvery(f.l))
		}
		return ""
	})
}
