package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A Limiter subscribes its restart canary with its first slot, on a pub/sub
// connection it opens then. A Redis restart that comes after the slot's
// acquire but before that connection's first SUBSCRIBE reaches Redis breaks
// nothing the Limiter can see: the dial and the SUBSCRIBE's write succeed
// (a partition holds the bytes, as a slow network or a SYN retransmitted
// to a rebooting host does), no subscribe fails, and the canary's first
// confirmation comes from the restarted Redis. Another instance's restart
// message went out before that, and was not heard.
//
// Here a takes its first slot of k over its pooled connection, while the
// network to Redis holds every new connection of a's (the in-test proxy,
// frozen); a's pub/sub connection and its SUBSCRIBE wait there. Redis
// restarts empty; b, first to call, finds the scripts gone, tells the
// others on the canary (nobody hears: a is not yet subscribed) and takes k
// (limit 1). The partition heals: a's canary is confirmed, for the first
// time, on the restarted Redis. a's holder of k, lost in the restart, must
// end within restartBound, as the package promises (guarantee 5: "after a
// Redis restart, once the pub/sub connection it keeps from its first slot
// on comes back, or another instance tells it"); it lives on beside b's
// until a's next round, Lease/3 (20s) after its acquire: two holders of a
// key of limit 1.
//
// The timeouts of a's pub/sub calls (ReleaseTimeout, and the client's
// ReadTimeout for the connection's handshake) are raised above the time the
// partition lasts, so that no subscribe fails: a failed one is the case
// TestRestartBeforeTheCanarysFirstConfirmationEndsTheOldHolders covers.
func TestRestartBeforeTheCanarysSubscribeReachesRedisEndsTheOldHolders(t *testing.T) {
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	// a's first connection, its pool's, goes straight to Redis; every later
	// one, its pub/sub connection among them, through the proxy.
	client, ld := lateDialClient(t, srv, p, waitLong)
	if err := redisslot.LoadScripts(ctx, client); err != nil { // opens the pooled connection
		t.Fatal(err)
	}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, ReleaseTimeout: waitLong, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*waitLong)) })
	ld.viaProxy.Store(true)
	p.Freeze() // a's new connections are held: the partition

	old, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	recv(t, ld.dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: a's slot of k is forgotten
		t.Fatal(err)
	}
	_, relNew := mustTry(t, b.l, ctx, "k", 1) // finds the scripts gone: tells the others
	defer relNew()
	eventually(t, "b's restart message is sent", func() bool {
		return b.count.ByName("publish") > 0 && redisslot.TellerIdle(b.l)
	})
	p.Thaw() // a's pub/sub connection reaches the restarted Redis
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	subscribed := time.Now()

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k that the restart lost still held %v after a's canary was subscribed on the restarted Redis, while b holds k (limit 1): two holders; a's next round is %v after its acquire",
			time.Since(subscribed).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}
