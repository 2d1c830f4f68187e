package redisslot_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// A Limiter renews its waiters' entries in one pipeline across the
// masters. With one master stopped, the other master's answer is read at
// once and must stay read: the round's ctx (half an entry's life) ends
// while go-redis waits on the stopped master, and go-redis then sets that
// error on every command of the pipeline without one (see answerKept).
// The round then reports only the stopped master's key, and the waiter on
// the master that answered keeps its place without a report of ctx's
// error.
func TestEntryRenewalBesideAStoppedMasterReportsOnlyThatMastersKey(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithin(t, waitLong)
	servers := partialCluster(t, ctx)
	c := clusterClientOf(t, servers, time.Second)
	loadScripts(t, ctx, c)
	// b holds the slots, so that a's only background calls are the
	// renewals of its waiters' entries.
	b := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 30 * time.Second, OnError: func(error) {}})
	t.Cleanup(func() { _ = b.Close() })
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 3 * time.Second, ReleaseTimeout: time.Second, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })
	far, near := keyOnNode(t, ctx, servers, a, 0), keyOnNode(t, ctx, servers, a, 1)
	waited := make(chan error, 2)
	for i, key := range []string{far, near} {
		holdAbandoned(t, b, ctx, key, 1)
		go func() {
			_, rel, err := a.Acquire(ctx, key, 1)
			if rel != nil {
				rel()
			}
			waited <- err
		}()
		order, _ := redisslot.QueueKeys(a, key)
		srv := servers[i].Client(t)
		eventually(t, "a's Acquire of "+key+" joins its line", func() bool { return srv.ZCard(ctx, order).Val() == 1 })
	}
	stopUntilCleanup(t, servers[0])
	eventuallyWithin(t, waitLong, "a reports its failure to renew the entry of "+far, func() bool {
		for _, err := range errs.all() {
			if strings.Contains(err.Error(), strconv.Quote(far)) {
				return true
			}
		}
		return false
	})
	_ = a.Close() // within ReleaseTimeout; its report of every round is in errs
	for range 2 {
		recv(t, waited, waitAtOnce, "the waiting Acquires end at Close")
	}
	for _, err := range errs.all() {
		// A reply replaced is reported with ctx's error; one that came
		// late (on a loaded machine) with a network timeout.
		if strings.Contains(err.Error(), strconv.Quote(near)) && errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a reported %v; want no report of %q, whose master answered every renewal of its entry", err, near)
		}
	}
}
