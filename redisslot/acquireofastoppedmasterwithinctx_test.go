package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// On a Redis Cluster one of whose masters has stopped (SIGSTOP), an Acquire
// of a key of that master returns once its ctx is done. Acquire's doc: it
// waits "until a slot is its, ctx is done (it then returns ctx.Err() at
// once), or l is closed"; the package documentation, for request paths
// (ContextTimeoutEnabled, a second for DialTimeout, ReadTimeout and
// WriteTimeout, MaxRetries 1, as this client has), that "an acquire whose
// ctx ended returns ctx's error, not the timeout's".
//
// The acquire's call ends unreachable at ReadTimeout, before ctx; the
// Limiter then checks the key's master, which takes up to a second of its
// own, before the call returns: the call must stop waiting for the check
// when ctx ends. No Fallback is set.
func TestAcquireOfAKeyOfAStoppedMasterReturnsWhenItsCtxEnds(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const stopped, up = 0, 1
	c := clusterClientOf(t, servers, time.Second) // ReadTimeout 1s
	loadScripts(t, ctx, c)
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 3 * time.Second, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = a.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, up)
	_, rel := mustTry(t, a, ctx, near, 1) // the client knows the cluster
	rel()

	defer stopUntilCleanup(t, servers[stopped])()

	const bound = 1500 * time.Millisecond // past ReadTimeout, within ReadTimeout plus the PING's second
	const slack = 150 * time.Millisecond  // the call's own work past ctx's end, under -race
	for i := range 3 {                    // the first marks the master: the later ones show the Limiter sends no PING again
		cctx, cancel := context.WithTimeout(ctx, bound)
		start := time.Now()
		_, rel, err := a.Acquire(cctx, far, 1)
		took := time.Since(start)
		cancel()
		if err == nil {
			rel()
			t.Fatalf("Acquire(%q, 1) of a key of the stopped master = a slot; want an error", far)
		}
		if took > bound+slack {
			t.Fatalf("Acquire %d of %q, a key of the stopped master, returned %v after it began, %v after its ctx ended (err %v, is ctx's error: %v); want it to return at once when its ctx ends (%v)",
				i+1, far, took.Round(time.Millisecond), (took - bound).Round(time.Millisecond), err, errors.Is(err, context.DeadlineExceeded), bound)
		}
		t.Logf("Acquire %d: %v after %v", i+1, err, took.Round(time.Millisecond))
	}
}
