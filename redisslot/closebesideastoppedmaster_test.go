package redisslot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// Close frees every held slot in one pipeline across the masters. With one
// master stopped, the other master's free is answered at once and must
// stay answered: go-redis retries the stopped master's calls, and when
// ReleaseTimeout ends in the wait before a retry it sets that error on
// every command of the pipeline without one (see answerKept). Close then
// reports only the stopped master's key, and the other slot is freed.
func TestCloseBesideAStoppedMasterFreesAndReportsOnlyThatMastersSlots(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithin(t, waitLong)
	// ReleaseTimeout, 2.5s, ends within the third attempt at the stopped master.
	a, servers, far, near := heldBesideAStoppedMaster(t, ctx, 2500*time.Millisecond)
	err := a.Close()
	if err == nil || !strings.Contains(err.Error(), strconv.Quote(far)) {
		t.Fatalf("Close() = %v; want an error naming %q, whose master is stopped", err, far)
	}
	if strings.Contains(err.Error(), strconv.Quote(near)) {
		t.Fatalf("Close() = %v; want no error for %q, whose master answered its free", err, near)
	}
	if n, zerr := servers[1].Client(t).ZCard(ctx, redisslot.SlotKey(a, near)).Result(); zerr != nil || n != 0 {
		t.Fatalf("ZCARD of %q's slot set on its master after Close = %d, %v; want 0", near, n, zerr)
	}
}

// heldBesideAStoppedMaster starts a cluster of three masters and a Limiter
// (ReleaseTimeout as given) on a client whose every attempt ends after a
// second, with one retry: so a ctx or ReleaseTimeout of 2.5s ends within
// the third attempt at a stopped master, before go-redis's retries are
// spent. It holds a slot of far, a key of master 0, and of near, one of
// master 1, then stops master 0 until t's cleanups.
func heldBesideAStoppedMaster(t *testing.T, ctx context.Context, releaseTimeout time.Duration) (a *redisslot.Limiter, servers []*redistest.Server, far, near string) {
	t.Helper()
	servers = partialCluster(t, ctx)
	c := clusterClientOf(t, servers, time.Second)
	loadScripts(t, ctx, c)
	a = redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 30 * time.Second, ReleaseTimeout: releaseTimeout})
	t.Cleanup(func() { _ = a.Close() })
	far, near = keyOnNode(t, ctx, servers, a, 0), keyOnNode(t, ctx, servers, a, 1)
	holdAbandoned(t, a, ctx, far, 1)
	holdAbandoned(t, a, ctx, near, 1)
	stopUntilCleanup(t, servers[0])
	return a, servers, far, near
}
