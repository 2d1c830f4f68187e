package redisslot_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The canary's first confirmation looks whether Redis still has the slots
// held (subscriber.firstConfirmed). A look at the slot set last would not
// do, though a restart that lost the slots taken before it lost that one
// too: a slot taken after the restart, on the restarted Redis, is live
// there whatever the restart lost. As in TestRestartWhileTheCanarysFirstDialIsOnItsWayEndsTheOldHolders,
// a takes its first slot, of k, and its pub/sub dial waits; Redis restarts
// empty; b, first to call, finds the scripts gone, tells the others on the
// canary (a is not subscribed yet) and takes k (limit 1). Then a takes a
// slot of another key, j, on the restarted Redis (the scripts are back: no
// call of a's fails or is answered NOSCRIPT), and its dial goes through.
// a's holder of k, lost in the restart, must end within restartBound.
func TestRestartBeforeTheCanarysFirstLookEndsTheOldHoldersThoughASlotWasTakenSince(t *testing.T) {
	srv := redistest.Start(t)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	var gated atomic.Bool
	dialing, through := make(chan struct{}, 1), make(chan struct{})
	var first atomic.Bool // the first dial once gated: the pub/sub connection's
	opts := srv.Options()
	opts.DialTimeout = longLease
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if gated.Load() && first.CompareAndSwap(false, true) {
			sendOrDrop(dialing, struct{}{})
			select {
			case <-through:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	if err := redisslot.LoadScripts(ctx, client); err != nil { // opens the pooled connection
		t.Fatal(err)
	}
	log := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, ReleaseTimeout: longLease, OnError: log.add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*longLease)) })
	gated.Store(true) // the next dial, the pub/sub connection's, waits

	old, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	recv(t, dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")

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
	since, relSince := mustTry(t, a, ctx, "j", 1) // on the restarted Redis
	defer relSince()
	if errs := log.all(); len(errs) > 0 {
		t.Fatalf("a's OnError got %v: this test is of a restart that no call of a's sees", errs)
	}
	close(through) // a's pub/sub connection opens, on the restarted Redis
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	subscribed := time.Now()

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Errorf("a's slot of k that the restart lost still held %v after a's canary was first confirmed, on the restarted Redis, beside b's (limit 1); its first look found live a's slot of j, taken after the restart (canary checked: %v); a's next round is %v after its acquire",
			time.Since(subscribed).Round(time.Millisecond), redisslot.CanaryChecked(a), redisslot.RenewEvery(a))
	}
	if since.Err() != nil {
		t.Errorf("a's slot of j, taken after the restart, ended (cause %v); want it live", context.Cause(since))
	}
}
