package redisslot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// Load reads every key in one pipeline across the masters. With one master
// stopped, the other master's answer is read at once and must stay read:
// go-redis retries the stopped master's call, and when Load's ctx ends in
// the wait before a retry it sets ctx's error on every command of the
// pipeline without one (see answerKept). Load then fails only the stopped
// master's key, and counts the other's holder.
func TestLoadBesideAStoppedMasterCountsTheKeyOfTheMasterThatAnswers(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithin(t, waitLong)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	// Each attempt at the stopped master ends after a second: Load's ctx,
	// 2.5s, ends within the third, before go-redis's retries are spent.
	c := clusterClientOf(t, servers, time.Second)
	loadScripts(t, ctx, c)
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 30 * time.Second})
	t.Cleanup(func() { _ = a.Close() })

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	holdAbandoned(t, a, ctx, far, 1)
	holdAbandoned(t, a, ctx, near, 1)

	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()
	lctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	defer cancel()
	loads, err := a.Load(lctx, far, near)
	if err == nil || !strings.Contains(err.Error(), strconv.Quote(far)) {
		t.Fatalf("Load() error = %v; want one naming %q, whose master is stopped", err, far)
	}
	if strings.Contains(err.Error(), strconv.Quote(near)) {
		t.Errorf("Load() error = %v; want none for %q, whose master answered", err, near)
	}
	if len(loads) != 2 || loads[1].Key != near || loads[1].InUse != 1 {
		t.Errorf("Load() = %+v; want %q counted with its 1 holder", loads, near)
	}
}
