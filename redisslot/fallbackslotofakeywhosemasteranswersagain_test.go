package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// On a Redis Cluster, a key served from the fallback share while its master
// was stopped goes back to Redis as soon as a call of the same master is
// answered, while the fallback state is still on: Redis, which has not been
// told of the share's holders (only a round writes them in), admits up to
// the limit beside them. Options.Fallback promises: "A key whose master
// answers goes to Redis, and its limit holds". One Limiter, no partition:
// it can reach every master, yet the key has limit plus share holders.
//
// The renewer's rounds are held (HoldRounds) so that none writes the
// fallback slot into Redis before the key's acquires go there: a round at
// that moment is the only thing that keeps the limit, and it comes every
// Lease/3 at best.
func TestFallbackSlotOfAKeyWhoseMasterAnswersAgainCountsAgainstItsLimit(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own
	const lease = 10 * time.Second
	const limit = 2
	ctx := ctxWithin(t, waitLong+waitAfter(5*time.Second)) // it outlives the setup and the watch below
	servers := partialCluster(t, ctx)
	const stopped = 0
	c := clusterClientOf(t, servers, time.Second) // 1s timeouts, one retry
	loadScripts(t, ctx, c)
	l := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = l.Close() })

	keys := keysOnNode(t, ctx, servers, l, stopped, 2)
	key, other := keys[0], keys[1]
	_, relOther := mustTry(t, l, ctx, other, 1) // a slot in Redis on the master to be stopped

	resumeRounds := redisslot.HoldRounds(l)
	defer resumeRounds()

	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()

	// The key's call times out on the stopped master: the state begins, the
	// master is marked out of reach, and the call is served from the share.
	var live []context.Context
	sctx, rel, err := l.TryAcquire(ctx, key, limit)
	if err != nil {
		t.Fatalf("TryAcquire(%q, %d) with its master stopped = %v; want a slot of the share", key, limit, err)
	}
	defer rel()
	live = append(live, sctx)
	if !l.Stats().Degraded {
		t.Fatalf("Stats().Degraded = false after a call failed unreachable; want true")
	}

	// The master answers again; the release of another of its keys is sent
	// at once and answered, which unmarks the master. The state is still on
	// (no round has run).
	resume()
	relOther()
	deadline := time.Now().Add(waitAfter(5 * time.Second))
	for time.Now().Before(deadline) {
		sctx, rel, err := l.TryAcquire(ctx, key, limit) // a slot's ctx ends with its caller's
		if err == nil {
			defer rel()
			live = append(live, sctx)
			continue
		}
		if !errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("TryAcquire(%q, %d) = %v; want a slot or ErrFull", key, limit, err)
		}
		if len(live) > 1 {
			break // Redis refused: the key is full in Redis too
		}
		time.Sleep(pollInterval) // poll until the free was answered
	}
	n := 0
	for _, s := range live {
		if s.Err() == nil {
			n++
		}
	}
	if n > limit {
		t.Fatalf("%d live holders of %q with limit %d (the fallback slot of its share and %d from Redis, its master answering, Degraded %v, %d fallback slots unknown to Redis); want at most %d",
			n, key, limit, n-1, l.Stats().Degraded, redisslot.FallbackHeld(l, key), limit)
	}
}
