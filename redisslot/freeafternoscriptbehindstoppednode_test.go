package redisslot_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster one of whose masters is stopped, the releases of two
// slots on a master that answers, but whose script cache was emptied (a
// SCRIPT FLUSH here; a restart with appendonly, or a failover to a replica,
// does the same), are freed at once. The package documentation says: "The
// frees of releases go to each master on their own: while one master does
// not answer, only the frees of its keys wait, each call up to
// min(ReleaseTimeout, Lease/3); neither renewal rounds nor other masters
// hold them up", and the README that a release hands the member to the
// Limiter, "which sends the free at once".
//
// The two frees go in one call of the answering master's lane; a hook
// holds that lane's call before them (a free that got through) until both
// are in its queue, so that they go together, as frees of releases that
// come close together do. Their call is answered NOSCRIPT, and loading the
// script again must not wait for the stopped master. Lease is a minute and
// ReleaseTimeout 20s: a free call held up by the stopped master fails only
// after 20s.
func TestReleasesOnANodeWhoseScriptCacheWasEmptiedAreFreedWhileAnotherMasterIsStopped(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	// a's calls end at their ctx's deadline: the documentation's bound of a
	// free call, min(ReleaseTimeout, Lease/3), supposes no shorter timeout
	// of the client's. (ReadTimeout -1 would not do: go-redis gives the
	// node clients of a cluster its 5s default then.)
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr
	}
	ca := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true,
		DialTimeout: time.Minute, ReadTimeout: time.Minute, WriteTimeout: time.Minute, MaxRetries: 1})
	t.Cleanup(func() { _ = ca.Close() })
	first := make(chan struct{})
	unblock := make(chan struct{})
	var armed atomic.Bool // after a's warm-up
	var calls atomic.Int32
	ca.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(_ context.Context, _ []redis.Cmder, next func() error) error {
		err := next()
		if armed.Load() && calls.Add(1) == 1 { // the first free: the decoy's, in the healthy master's lane
			close(first)
			<-unblock
		}
		return err
	}})
	loadScripts(t, ctx, ca)
	errs := &errLog{}
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: time.Minute, ReleaseTimeout: 20 * time.Second, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })

	keys := keysOnNode(t, ctx, servers, a, healthy, 3)
	decoy, near, other := keys[0], keys[1], keys[2]
	// The round that the canary's first confirmation asks has run: a round
	// as the decoy is released could carry its free behind a renewal, past
	// the hook, which matches a call by its first command.
	warmUp(t, a)
	armed.Store(true)
	_, relDecoy := mustTry(t, a, ctx, decoy, 1)
	_, relNear := mustTry(t, a, ctx, near, 1)
	_, relOther := mustTry(t, a, ctx, other, 1)

	defer stopUntilCleanup(t, servers[stopped])()
	unblocked := false
	defer func() { // before Close, whose frees the hook would hold otherwise
		if !unblocked {
			close(unblock)
		}
	}()
	relDecoy()
	recv(t, first, waitAtOnce, "the free of the first release sent")
	relNear()
	relOther()
	// The decoy's free, answered, is settled once the hook returns.
	eventually(t, "both frees queued in the healthy master's lane", func() bool { return redisslot.FreesInFlight(a) == 3 })
	if err := servers[healthy].Client(t).ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	released := time.Now()
	unblocked = true
	close(unblock)

	// Each slot set on the master that answers must be empty within
	// waitAtOnce: the frees were sent at once and that master answers. The
	// wait goes on, up to waitLong, to tell how late they were.
	node := servers[healthy].Client(t)
	freed := func() bool {
		for _, key := range []string{near, other} {
			if n, err := node.ZCard(ctx, redisslot.SlotKey(a, key)).Result(); err != nil || n != 0 {
				return false
			}
		}
		return true
	}
	var late string
	for deadline := released.Add(waitLong); !freed(); time.Sleep(pollInterval) {
		if late == "" && time.Since(released) > waitAtOnce {
			late = fmt.Sprintf("pending frees of a: %d, in flight %d; InUse(%q) = %s", a.Stats().PendingFrees, redisslot.FreesInFlight(a), near, inUseWithin(ctx, a, near))
		}
		if time.Now().After(deadline) {
			break
		}
	}
	took := time.Since(released)
	for _, err := range errs.all() {
		t.Logf("a's OnError: %v", err)
	}
	if late != "" {
		t.Fatalf("the slots of %q and %q, released, stayed in their slot sets on the master that answers %v (freed: %v) while another master was stopped (after %v: %s); want them freed within %v",
			near, other, took.Round(time.Millisecond), freed(), waitAtOnce, late, waitAtOnce)
	}
	t.Logf("both slots freed %v after their release", took)
}

// inUseWithin returns what l.InUse(ctx, key) answers within a second.
func inUseWithin(ctx context.Context, l *redisslot.Limiter, key string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	n, err := l.InUse(ctx, key)
	return fmt.Sprint(n, ", ", err)
}
