package redisslot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A Limiter with a fallback share, on a Redis Cluster client that has never
// reached the cluster (a gateway instance that starts while every master is
// stopped, SIGSTOP), serves its share at once once the fallback state is
// on, and an Acquire returns when its ctx ends. Options.Fallback says:
// "While it lasts, acquiring calls of keys with a share do not wait on
// Redis"; Acquire's doc, that it waits "until a slot is its, ctx is done (it
// then returns ctx.Err() at once), or l is closed".
//
// The client is the one the package documentation advises for request
// paths (ReadTimeout 1s). While go-redis holds no view of the cluster,
// ClusterClient.MasterForKey loads one, sending CLUSTER SLOTS, before it
// returns. The Limiter asks it, bounded by a second of its own and not by
// the caller's ctx, for every call while the state is on (acquire.go
// serves -> reach.go outOfReach -> master -> masterClient), and once more
// after each call that failed (attempt.failed -> nodeReach.note).
func TestFallbackShareOfAClusterNeverReachedIsServedWithinCtx(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	for _, s := range servers {
		defer stopUntilCleanup(t, s)() // resumed before a is closed
	}
	c := clusterClientOf(t, servers, time.Second) // as the package documentation advises; it has sent nothing yet
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 3 * time.Second, OnError: errs.add,
		Fallback: func(_ string, limit int) int { return limit }})
	t.Cleanup(func() { _ = a.Close() })

	// The first call cannot reach Redis: the state begins, and the call
	// itself is served from the share, however long it took.
	start := time.Now()
	_, rel, err := a.TryAcquire(ctx, "first", 2)
	if err != nil {
		t.Fatalf("TryAcquire(%q, 2) while every master is stopped: %v; want a slot of the share", "first", err)
	}
	defer rel()
	t.Logf("the first call, which began the state, was served after %v", time.Since(start).Round(time.Millisecond))
	if !a.Stats().Degraded {
		t.Fatalf("Stats().Degraded = false after a call served from the share; want true")
	}

	const bound = 300 * time.Millisecond // a request's budget for its slots
	const slack = 150 * time.Millisecond // the call's own work past ctx's end, under -race
	for i := range 3 {
		key := fmt.Sprint("k", i)
		cctx, cancel := context.WithTimeout(ctx, bound)
		start := time.Now()
		_, rel, err := a.Acquire(cctx, key, 2)
		took := time.Since(start)
		cancel()
		if err == nil {
			rel()
		}
		if took > bound+slack {
			t.Fatalf("Acquire(%q, 2) %d, while the fallback state is on with a share of 2, returned %v after it began, %v after its ctx ended (err %v); want the share served at once, within ctx (%v)",
				key, i+1, took.Round(time.Millisecond), (took - bound).Round(time.Millisecond), err, bound)
		}
		if err != nil {
			t.Fatalf("Acquire(%q, 2) %d while the fallback state is on with a share of 2: %v; want a slot of the share", key, i+1, err)
		}
	}
}
