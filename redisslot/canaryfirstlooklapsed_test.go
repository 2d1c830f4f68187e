package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A Redis restart with persistence may restore the slot a Limiter took last
// with its lease already ended: a snapshot older than the lease (an RDB
// save, or appendfsync everysec that lost the renewals of the last second
// and more). Redis still has the member, so ZSCORE finds it, but no script
// counts it any more: another instance takes its slot at once. The canary's
// first confirmation on the restarted Redis looks only whether the member
// is there (subscriber.firstConfirmed), not whether its lease is live, and
// asks no round: the old holder lives on beside the new one until its next
// round, Lease/3 after its last.
//
// Here a takes k (limit 1) while the network holds every new connection of
// a's, its pub/sub connection among them (the in-test proxy, frozen, as in
// TestRestartBeforeTheCanarysSubscribeReachesRedisEndsTheOldHolders). Redis
// saves (SAVE) right after the acquire. a renews its slot round after round
// over its pooled connection; once a round has run after the snapshot's
// lease of a's slot ended, Redis is killed and started from the snapshot:
// k is back, a's member in it, its lease ended. Another instance, starting,
// loads the scripts, so that b's acquire of k finds them (no round at once,
// no restart message: the case of the tests of commit 633673f) and takes k.
// The partition heals: a's canary is confirmed for the first time, on the
// restarted Redis, and a's holder of k must end within restartBound, as
// after a restart that lost the member. (Had b found the scripts gone, its
// round at once would have removed a's ended member, and a's look not
// found it.)
func TestRestartBeforeTheCanarysFirstConfirmationEndsAHolderWhoseRestoredLeaseEnded(t *testing.T) {
	t.Parallel() // it mostly waits: it runs beside other such tests
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	b := newFixture(t, srv, redisslot.Options{Lease: restartLease})
	raw := srv.Client(t)
	ctx := ctxWithin(t, waitLong+2*restartLease) // its calls run after two Leases
	long, cancelLong := context.WithTimeout(context.Background(), waitAfter(2*restartLease))
	defer cancelLong()

	// a's first connection, its pool's, goes straight to Redis; every later
	// one, its pub/sub connection among them, through the proxy.
	client, ld := lateDialClient(t, srv, p, 2*restartLease)
	if err := redisslot.LoadScripts(ctx, client); err != nil { // opens the pooled connection
		t.Fatal(err)
	}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: restartLease, ReleaseTimeout: 2 * restartLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(4*restartLease)) })
	ld.viaProxy.Store(true)
	p.Freeze() // a's new connections are held: the partition

	old, rel := mustTry(t, a, long, "k", 1)
	defer rel()
	recv(t, ld.dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")
	rkey := redisslot.SlotKey(a, "k")
	if err := raw.Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	saved := members(t, raw, rkey)
	if len(saved) != 1 {
		t.Fatalf("%s holds %v after the acquire; want a's member", rkey, saved)
	}
	member, savedEnds := saved[0].Member.(string), saved[0].Score

	// The snapshot's lease of a's slot ends; a round of a's renews it after that.
	rounds := a.Stats().RenewalRounds
	eventuallyWithin(t, waitAfter(2*restartLease), "a's lease in the snapshot ends, and a round of a's runs after that", func() bool {
		if redisNowMs(t, raw) <= savedEnds {
			rounds = a.Stats().RenewalRounds
			return false
		}
		return a.Stats().RenewalRounds >= rounds+2 // one that began after the lease ended, and ended
	})
	if err := old.Err(); err != nil {
		t.Fatalf("a's slot of k ended (%v) before the restart; want it renewed", context.Cause(old))
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // from the snapshot
		t.Fatal(err)
	}
	restored, err := raw.ZScore(ctx, rkey, member).Result()
	if err != nil {
		t.Fatalf("ZSCORE of a's member after the restart: %v; want the snapshot's score", err)
	}
	if now := redisNowMs(t, raw); restored != savedEnds || restored >= now {
		t.Fatalf("a's member is scored %v after the restart, at %v; want the snapshot's %v, ended", restored, now, savedEnds)
	}
	// Another instance, starting, loads the scripts: b's acquire finds
	// them, runs no round at once and tells nobody.
	if err := redisslot.LoadScripts(ctx, raw); err != nil {
		t.Fatal(err)
	}
	_, relNew := mustTry(t, b.l, ctx, "k", 1) // a's member, its lease ended, counts no more
	defer relNew()
	p.Thaw() // a's pub/sub connection reaches the restarted Redis
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	subscribed := time.Now()
	eventually(t, "a looks into its canary's first confirmation", func() bool { return redisslot.CanaryChecked(a) })

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
		t.Logf("a's slot of k ended %v after a's canary was subscribed", time.Since(subscribed).Round(time.Millisecond))
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, whose lease the restart restored ended, still held %v after a's canary was first confirmed on the restarted Redis, while b holds k (limit 1): two holders; a's next round is %v after its last",
			time.Since(subscribed).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}
