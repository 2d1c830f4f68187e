package redisslot_test

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Limiter subscribes its restart canary with its first slot, and takes a
// confirmation of a channel it had confirmed before as the sign that its
// pub/sub connection came back from a restart. The first confirmation is
// no such sign: a restart that comes between the first slot and the
// canary's first confirmation (its pub/sub dial is slow, or fails while
// Redis is down) is never heard of. Here a's first slot of k is taken while
// a's pub/sub dial hangs; Redis restarts empty; b, first to call, finds
// the scripts gone, tells the others on the canary (a is not subscribed
// yet) and takes k (limit 1); then a's dial goes through and its canary is
// confirmed on the new Redis. a's holder of k, lost in the restart, must
// end within restartBound: it lives beside b's until a's next round, a
// third of a Lease (20s) later, as doc.go says. A round at the canary's
// first confirmation would end it, at the cost of a round a Limiter; that
// is not decided, so the test is skipped unless
// REDISSLOT_CANARY_UNDECIDED=1.
func TestRestartBeforeTheCanarysFirstConfirmationEndsTheOldHolders(t *testing.T) {
	if os.Getenv("REDISSLOT_CANARY_UNDECIDED") != "1" {
		t.Skip("a's holder lives until its next round (Lease/3): a restart before the canary's first confirmation is not heard of; REDISSLOT_CANARY_UNDECIDED=1 runs it")
	}
	srv := redistest.Start(t)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	var gated atomic.Bool
	gate, dialing := make(chan struct{}), make(chan struct{}, 1)
	opts := srv.Options()
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if gated.Load() {
			sendOrDrop(dialing, struct{}{})
			select {
			case <-gate:
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
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(10*time.Second)) })
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
	_, relNew := mustTry(t, b.l, ctx, "k", 1) // finds the scripts gone: tells the others
	defer relNew()
	eventually(t, "b's restart message is sent", func() bool {
		return b.count.ByName("publish") > 0 && redisslot.TellerIdle(b.l)
	})
	close(gate) // a's pub/sub connection opens, on the restarted Redis
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
