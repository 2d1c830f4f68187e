package redisslot_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A restart may come while a Limiter's first subscribe of its restart
// canary is on its way, with nothing failing: its pub/sub dial is slow,
// Redis restarts empty meanwhile, and the dial then reaches the restarted
// Redis, where the canary is confirmed for the first time. Here a takes its
// first slot of k; its pub/sub dial waits; Redis stops and restarts; b,
// first to call, finds the scripts gone, tells the others on the canary (a
// is not subscribed yet) and takes k (limit 1); then a's dial goes through.
// No call of a's failed, so only the first confirmation itself can tell a
// to look for the slots a restart lost. a's holder of k must end within
// restartBound; without the look it lives beside b's until a's next round,
// a third of a Lease (20s) later.
func TestRestartWhileTheCanarysFirstDialIsOnItsWayEndsTheOldHolders(t *testing.T) {
	canaryDialAcrossRestart(t, true)
}

// The same restart with no other instance calling before a's canary is
// first confirmed: a finds its slot gone from Redis as well, and its holder
// of k, lost in the restart, must end within restartBound.
func TestRestartWhileTheCanarysFirstDialIsOnItsWayEndsTheOldHoldersWithNoOtherCall(t *testing.T) {
	canaryDialAcrossRestart(t, false)
}

// canaryDialAcrossRestart restarts Redis while a's first pub/sub dial
// waits; with others, b takes k (limit 1) before the dial goes through.
func canaryDialAcrossRestart(t *testing.T, others bool) {
	srv := redistest.Start(t)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	var gated atomic.Bool
	dialing, through := make(chan struct{}, 1), make(chan struct{})
	opts := srv.Options()
	opts.DialTimeout = longLease
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if gated.Load() {
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
	gated.Store(true) // from now on only the pub/sub connection dials

	old, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	recv(t, dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: a's slot of k is forgotten
		t.Fatal(err)
	}
	if others {
		_, relNew := mustTry(t, b.l, ctx, "k", 1) // finds the scripts gone: tells the others
		defer relNew()
		eventually(t, "b's restart message is sent", func() bool {
			return b.count.ByName("publish") > 0 && redisslot.TellerIdle(b.l)
		})
	}
	for _, err := range log.all() {
		if strings.Contains(err.Error(), "subscribe") {
			t.Fatalf("a's subscribe failed (%v): this test is of a first subscribe that does not", err)
		}
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
		t.Fatalf("a's slot of k that the restart lost still held %v after a's canary was first confirmed, on the restarted Redis (b holds k, limit 1: %v); a's next round is %v after its acquire",
			time.Since(subscribed).Round(time.Millisecond), others, redisslot.RenewEvery(a))
	}
}
