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

// The canary's first look (see TestRestartWhileTheCanarysFirstDialIsOnItsWayEndsTheOldHolders)
// looks at the slots held when it looks. An acquire answered before the
// restart, whose goroutine keeps its slot only after the look, is held by
// no slot the look saw: the look must still have its slot looked for, as a
// round asked while a call is on its way does (see
// TestRestartFoundWhileAnAcquiresReplyIsOnItsWayEndsItsSlot).
//
// Here a takes its first slot, of k0, and releases it; its pub/sub dial
// waits. a's acquire of k (limit 1) is answered by Redis, and its goroutine
// is held (a hook) between the reply and keeping the slot while Redis
// stops and restarts empty, b takes k (limit 1), and a's dial goes through
// to the restarted Redis, where the canary's first confirmation looks at
// the slots a holds: none. a's acquire then keeps its slot of k, which the
// restart lost. Its holder must end within restartBound; if it does not,
// it lives beside b's until a's next round, a third of a Lease (20s) later.
func TestRestartBeforeTheCanarysFirstLookEndsASlotKeptAfterTheLook(t *testing.T) {
	srv := redistest.Start(t)
	prefix := testPrefix(t)
	b := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
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
	answered, unblock := make(chan struct{}), make(chan struct{})
	var holdReply atomic.Bool
	client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if holdReply.CompareAndSwap(true, false) {
			close(answered)
			select { // descheduled between the reply and keeping the slot
			case <-unblock:
			case <-hctx.Done():
			}
		}
		return err
	}})
	log := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: prefix, Lease: longLease, ReleaseTimeout: longLease, OnError: log.add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*longLease)) })
	gated.Store(true) // from now on only the pub/sub connection dials

	_, relFirst := mustTry(t, a, ctx, "k0", 1)
	recv(t, dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")
	relFirst()
	eventually(t, "the free of a's slot of k0 is confirmed", func() bool {
		return redisslot.FreesInFlight(a) == 0 && a.Stats().PendingFrees == 0
	})

	holdReply.Store(true)
	type result struct {
		ctx context.Context
		err error
	}
	second := make(chan result, 1)
	go func() {
		sctx, rel, err := a.TryAcquire(ctx, "k", 1)
		if err == nil {
			t.Cleanup(rel)
		}
		second <- result{sctx, err}
	}()
	recv(t, answered, waitAtOnce, "Redis answers a's acquire of k")

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: a's slot of k is forgotten
		t.Fatal(err)
	}
	_, relB := mustTry(t, b.l, ctx, "k", 1) // finds the scripts gone: tells the others
	defer relB()
	eventually(t, "b's restart message is sent", func() bool {
		return b.count.ByName("publish") > 0 && redisslot.TellerIdle(b.l)
	})
	close(through) // a's pub/sub connection opens, on the restarted Redis
	eventually(t, "a's canary's first confirmation is looked into", func() bool { return redisslot.CanaryChecked(a) })
	for _, err := range log.all() {
		if strings.Contains(err.Error(), "subscribe") {
			t.Fatalf("a's subscribe failed (%v): this test is of a first subscribe that does not", err)
		}
	}
	close(unblock)
	r := recv(t, second, waitAtOnce, "a's acquire of k returns")
	if r.err != nil {
		t.Fatalf("a's TryAcquire(k, 1): %v; want it admitted by Redis before the restart", r.err)
	}
	kept := time.Now()

	select {
	case <-r.ctx.Done():
		if got := context.Cause(r.ctx); got != redisslot.ErrLeaseLost {
			t.Errorf("a's slot of k ended with cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, admitted before the restart and kept after the canary's first look, still held %v after it was kept, beside b's (limit 1): the look saw no slot held and asked no round, nor did the acquire; a's next round is %v after its first slot (OnError got %v)",
			time.Since(kept).Round(time.Millisecond), redisslot.RenewEvery(a), log.all())
	}
}
