package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// On a Redis Cluster one of whose masters has stopped, a Limiter with a
// fallback share still reaches the node of every other key. The README
// promises that "the limit holds, even for an instance cut off from Redis",
// and Options.Fallback serves the share only "while Redis cannot be
// reached", at the risk that "while one instance cannot reach Redis, a key
// may have up to its limit plus that instance's share of holders". A key
// whose node answers is not cut off: Redis alone must admit to it, so that
// while b holds its one slot, a's TryAcquire of it is refused, round after
// round, while a key of the stopped master is served from the share.
func TestFallbackShareIsNotServedForAKeyWhoseNodeAnswers(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	const lease = 3 * time.Second
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	ca := clusterClientOf(t, servers, time.Second) // 1s timeouts, one retry
	cb := redistest.ClusterClient(t, servers)
	loadScripts(t, ctx, ca, cb)
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = a.Close() })
	b := redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	holdAbandoned(t, a, ctx, far, 1) // a's rounds call the node to be stopped
	_, relB := mustTry(t, b, ctx, near, 1)
	defer relB()
	if _, _, err := a.TryAcquire(ctx, near, 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) before the stop = %v; want ErrFull", near, err)
	}

	defer stopUntilCleanup(t, servers[stopped])()

	// a's next round times out on the stopped master: the fallback state
	// begins, and a key of that master is served from the share.
	redisslot.RoundSoon(a)
	eventuallyWithin(t, waitAfter(lease), "a's fallback state begins", func() bool { return a.Stats().Degraded })
	_, relFar, err := a.TryAcquire(ctx, far, 1)
	if err != nil {
		t.Fatalf("a.TryAcquire(%q, 1) of a key of the stopped master, in the fallback state = %v; want a slot of the share", far, err)
	}
	defer relFar()

	// For a Lease, rounds cut short at the stopped master beside, a key
	// whose master answers is Redis's alone: b holds its one slot.
	tick := time.NewTicker(lease / 30) // samples of a state: no condition to wait for
	defer tick.Stop()
	for end := time.Now().Add(lease); time.Now().Before(end); <-tick.C {
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		_, rel, err := a.TryAcquire(tctx, near, 1)
		cancel()
		if err == nil {
			rel()
			t.Fatalf("a.TryAcquire(%q, 1) = a slot while b holds its one slot, its master answering (a degraded: %v); want ErrFull",
				near, a.Stats().Degraded)
		}
		if !errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("a.TryAcquire(%q, 1) = %v; want ErrFull: its master answers", near, err)
		}
		redisslot.RoundSoon(a) // rounds end by Lease/3, cut short at the stopped master
	}
}
