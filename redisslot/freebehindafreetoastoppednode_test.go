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

// On a Redis Cluster one of whose masters has stopped, a release of a slot
// on a node that answers is freed at once, even while the free of a slot on
// the stopped master is on its way: the README says that a release never
// waits for Redis and that the Limiter sends the free at once, and the
// package documentation that a freed slot goes to the oldest waiter of any
// instance, which tries after at most min(Lease/3, 1s) on its own. Here the
// call that frees the slot on the stopped master waits until ReleaseTimeout
// (20s, below Lease/3) cuts it off, and the slot on the node that answers
// is released right after that call was sent.
func TestReleaseOnANodeThatAnswersIsFreedWhileAFreeWaitsForAStoppedNode(t *testing.T) {
	t.Parallel()              // it mostly waits on servers of its own: it runs beside other such tests
	const lease = time.Minute // a round is cut off at Lease/3: 20s
	const releaseTimeout = 20 * time.Second
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	// a's client bounds every call by its ctx alone, so that a background
	// call that sends frees is bounded by min(ReleaseTimeout, Lease/3), as
	// Options.ReleaseTimeout says.
	ca := clusterClientOf(t, servers, -1)
	freeSent := make(chan struct{}, 1)
	ca.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(_ context.Context, _ []redis.Cmder, next func() error) error {
		sendOrDrop(freeSent, struct{}{})
		return next()
	}})
	cb := redistest.ClusterClient(t, servers)
	loadScripts(t, ctx, ca, cb)
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: lease, ReleaseTimeout: releaseTimeout, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = a.Close() })
	b := redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	_, relFar := mustTry(t, a, ctx, far, 1)
	_, relNear := mustTry(t, a, ctx, near, 1)
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

	// The other master stops; a releases its slot there, and its free
	// waits for that master.
	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()
	select {
	case <-freeSent:
	default:
	}
	relFar()
	recv(t, freeSent, waitAtOnce, "a's free of the slot on the stopped master sent")

	released := time.Now()
	relNear()
	bound := waitAfter(redisslot.RetryInterval(b))
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatalf("b's Acquire(%q) = %v; want the slot a released", near, r.err)
		}
		t.Logf("b took the slot %v after a released it", r.at.Sub(released))
	case <-time.After(bound):
		n, err := servers[healthy].Client(t).ZCard(ctx, redisslot.SlotKey(a, near)).Result()
		t.Fatalf("b's waiter had no slot of %q %v after a released it (slot set on the node that answers holds %d, %v; pending frees of a: %d, in flight %d); want it freed at once and taken within %v",
			near, bound, n, err, a.Stats().PendingFrees, redisslot.FreesInFlight(a), bound)
	}
}
