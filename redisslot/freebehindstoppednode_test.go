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
// of a slot on a node that answers is still freed at once, and the waiter
// of another instance takes the slot: the README says that a release never
// waits for Redis and that the Limiter sends the free at once, and the
// package documentation that a freed slot goes to the oldest waiter of any
// instance, woken by pub/sub or trying after at most min(Lease/3, 1s) on
// its own. Here a's renewal round, its pipeline split over both nodes,
// waits for the stopped one until the round is cut off at Lease/3; the
// release comes right after that round was sent.
func TestReleaseOnANodeThatAnswersIsFreedWhileARoundWaitsForAStoppedNode(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	releaseWhileACallWaitsForAStoppedNode(t, redisslot.RenewHash, 0, func(a *redisslot.Limiter, ctx context.Context, far string) func() {
		holdAbandoned(t, a, ctx, far, 1) // a's rounds now call the node to be stopped
		return func() { redisslot.RoundSoon(a) }
	})
}

// The same, with the free of a slot on the stopped master in the way: the
// call that sends it waits until ReleaseTimeout (20s, below Lease/3) cuts
// it off.
func TestReleaseOnANodeThatAnswersIsFreedWhileAFreeWaitsForAStoppedNode(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	releaseWhileACallWaitsForAStoppedNode(t, redisslot.ReleaseHash, 20*time.Second, func(a *redisslot.Limiter, ctx context.Context, far string) func() {
		_, rel := mustTry(t, a, ctx, far, 1)
		return rel
	})
}

// releaseWhileACallWaitsForAStoppedNode has Limiter a, on a cluster of
// three masters, hold a slot of a key on master 0 (holdFar, which returns
// what sends a call of the script hash naming it) and one on master 1, for
// which another instance's Acquire waits. Master 0 stops; once a's call
// naming it is sent, a releases the slot on master 1, and the waiter must
// take it within its retry interval and the test's slack. Lease is a
// minute: a round is cut off at 20s. releaseTimeout 0 is the default.
func releaseWhileACallWaitsForAStoppedNode(t *testing.T, hash string, releaseTimeout time.Duration,
	holdFar func(a *redisslot.Limiter, ctx context.Context, far string) (send func())) {
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	// a's client bounds every call by its ctx alone, so that a background
	// call is bounded by Lease/3, or min(ReleaseTimeout, Lease/3) if it
	// sends frees, as the documentation says.
	ca := clusterClientOf(t, servers, -1)
	callSent := make(chan struct{}, 1)
	ca.AddHook(scriptHook{hash: hash, fn: func(_ context.Context, _ []redis.Cmder, next func() error) error {
		sendOrDrop(callSent, struct{}{})
		return next()
	}})
	cb := redistest.ClusterClient(t, servers)
	loadScripts(t, ctx, ca, cb)
	opts := redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: (&errLog{}).add}
	b := redisslot.New(cb, opts)
	t.Cleanup(func() { _ = b.Close() })
	opts.ReleaseTimeout = releaseTimeout
	a := redisslot.New(ca, opts)
	t.Cleanup(func() { _ = a.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	send := holdFar(a, ctx, far)
	_, rel := mustTry(t, a, ctx, near, 1)
	eventually(t, "a's restart canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(a) })
	got := waitInBackground(t, ctx, b, near)

	defer stopUntilCleanup(t, servers[stopped])()
	select {
	case <-callSent:
	default:
	}
	send()
	recv(t, callSent, waitAtOnce, "a's call naming the stopped master sent")

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
		t.Fatalf("b's waiter had no slot of %q %v after a released it (slot set on the node that answers holds %d, %v; pending frees of a: %d, in flight %d); want it freed at once and taken within %v",
			near, bound, n, err, a.Stats().PendingFrees, redisslot.FreesInFlight(a), bound)
	}
}

// A waited is how a background Acquire ended.
type waited struct {
	at  time.Time
	err error
}

// waitInBackground has l's Acquire of key wait, until it takes the slot
// (which it releases at once) or the test ends, and returns when it is in
// line: its outcome comes on the channel.
func waitInBackground(t *testing.T, ctx context.Context, l *redisslot.Limiter, key string) <-chan waited {
	wctx, cancel := context.WithCancel(ctx)
	got := make(chan waited, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, r, err := l.Acquire(wctx, key, 1)
		if r != nil {
			r()
		}
		got <- waited{time.Now(), err}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	eventually(t, "the background Acquire waits", func() bool { return redisslot.Waiters(l, key) == 1 })
	return got
}
