package redisslot_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
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
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	// Each attempt at the stopped master ends after a second: ReleaseTimeout,
	// 2.5s, ends within the third, before go-redis's retries are spent.
	c := clusterClientOf(t, servers, time.Second)
	loadScripts(t, ctx, c)
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 30 * time.Second, ReleaseTimeout: 2500 * time.Millisecond})
	t.Cleanup(func() { _ = a.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	holdAbandoned(t, a, ctx, far, 1)
	holdAbandoned(t, a, ctx, near, 1)

	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()
	err := a.Close()
	if err == nil || !strings.Contains(err.Error(), strconv.Quote(far)) {
		t.Fatalf("Close() = %v; want an error naming %q, whose master is stopped", err, far)
	}
	if strings.Contains(err.Error(), strconv.Quote(near)) {
		t.Fatalf("Close() = %v; want no error for %q, whose master answered its free", err, near)
	}
	if n, zerr := servers[healthy].Client(t).ZCard(ctx, redisslot.SlotKey(a, near)).Result(); zerr != nil || n != 0 {
		t.Fatalf("ZCARD of %q's slot set on its master after Close = %d, %v; want 0", near, n, zerr)
	}
}
