package redisslot_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Limiter subscribes its restart canary with its first slot, and takes a
// confirmation of a channel it had confirmed before as the sign that its
// pub/sub connection came back from a restart. A restart may also come
// before the canary's first confirmation: its pub/sub dial fails while
// Redis is down, and the first confirmation comes from the restarted
// Redis. So a first confirmation after a failed subscribe has the Limiter
// look for lost slots too. Here a takes its first slot of k; its pub/sub
// dial waits, then is refused while Redis is down (a's new connections are
// cut off until the test lets them through); Redis restarts empty; b, first
// to call, finds the scripts gone, tells the others on the canary (a is not
// subscribed) and takes k (limit 1); then a's pub/sub connection opens and
// its canary is confirmed on the new Redis. a's holder of k, lost in the
// restart, must end within restartBound; without the look it lives beside
// b's until a's next round, a third of a Lease (20s) later.
func TestRestartBeforeTheCanarysFirstConfirmationEndsTheOldHolders(t *testing.T) {
	srv := redistest.Start(t)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	var gated atomic.Bool
	dialing, down, through := make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	opts := srv.Options()
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if gated.Load() {
			sendOrDrop(dialing, struct{}{})
			select {
			case <-down:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			select {
			case <-through:
			default:
				return nil, errCutOff
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
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, OnError: log.add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(10*time.Second)) })
	gated.Store(true) // from now on only the pub/sub connection dials

	old, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	recv(t, dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	close(down)
	eventually(t, "a's subscribe fails", func() bool {
		for _, err := range log.all() {
			if strings.Contains(err.Error(), "subscribe") && strings.Contains(err.Error(), errCutOff.Error()) {
				return true
			}
		}
		return false
	})
	if err := srv.Restart(); err != nil { // empty: a's slot of k is forgotten
		t.Fatal(err)
	}
	_, relNew := mustTry(t, b.l, ctx, "k", 1) // finds the scripts gone: tells the others
	defer relNew()
	eventually(t, "b's restart message is sent", func() bool {
		return b.count.ByName("publish") > 0 && redisslot.TellerIdle(b.l)
	})
	close(through) // a's pub/sub connection opens, on the restarted Redis
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

// errCutOff refuses a's new connections while the test cuts them off.
var errCutOff = errors.New("a's new connections are cut off")
