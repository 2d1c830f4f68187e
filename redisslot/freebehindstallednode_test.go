package redisslot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster whose other master has stopped answering, a release
// of a slot on a node that answers must still be freed at once, and the
// waiter of another instance take the slot: the README promises that "a
// release never waits for Redis" and that the Limiter "sends the free at
// once", and the package documentation that a freed slot goes to the
// oldest waiter of any instance, woken by pub/sub or trying "after at most
// min(Lease/3, 1s)" on its own. Here a's renewal round, its pipeline split
// over both nodes, waits for the stopped one until the round is cut off at
// Lease/3 (the client bounds each call by its ctx alone); the release comes
// right after that round was sent.
func TestReleaseOnANodeThatAnswersIsFreedWhileARoundWaitsForAStoppedNode(t *testing.T) {
	t.Parallel()              // it mostly waits on servers of its own: it runs beside other such tests
	const lease = time.Minute // a round is cut off at Lease/3: 20s
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	// a's client bounds every call by its ctx alone (no timeout of its
	// own), so that a round is bounded by Lease/3, as the package
	// documentation says.
	ca := clusterClientOf(t, servers, -1)
	roundSent := make(chan struct{}, 1)
	ca.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(_ context.Context, _ []redis.Cmder, next func() error) error {
		sendOrDrop(roundSent, struct{}{})
		return next()
	}})
	cb := redistest.ClusterClient(t, servers)
	loadScripts(t, ctx, ca, cb)
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = a.Close() })
	b := redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	holdAbandoned(t, a, ctx, far, 1) // a's rounds now call the node to be stopped
	_, rel := mustTry(t, a, ctx, near, 1)
	eventually(t, "a's restart canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(a) })

	// b waits for the slot of near.
	wctx, cancelWait := context.WithCancel(ctx)
	defer cancelWait()
	type result struct {
		at  time.Time
		err error
	}
	got := make(chan result, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, r, err := b.Acquire(wctx, near, 1)
		if r != nil {
			r()
		}
		got <- result{time.Now(), err}
	}()
	defer wg.Wait()
	defer cancelWait()
	eventually(t, "b's Acquire waits", func() bool { return redisslot.Waiters(b, near) == 1 })

	// The other master stops; a runs a round, which waits for it.
	defer stopUntilCleanup(t, servers[stopped])()
	select {
	case <-roundSent:
	default:
	}
	redisslot.RoundSoon(a)
	recv(t, roundSent, waitAtOnce, "a's round sent")

	released := time.Now()
	rel()
	bound := waitAfter(redisslot.RetryInterval(b))
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("b's Acquire(%q) = %v; want the slot a released", near, r.err)
		}
		t.Logf("b took the slot %v after a released it", r.at.Sub(released))
	case <-time.After(bound):
		n, err := servers[healthy].Client(t).ZCard(ctx, redisslot.SlotKey(a, near)).Result()
		t.Fatalf("b's waiter had no slot of %q %v after a released it (slot set on the node that answers holds %d, %v; pending frees of a: %d); want it freed at once and taken within %v",
			near, bound, n, err, a.Stats().PendingFrees, bound)
	}
}
