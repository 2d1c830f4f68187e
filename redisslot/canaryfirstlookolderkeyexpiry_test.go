package redisslot_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Redis restart from a snapshot that comes before the canary's first
// confirmation is heard of by the canary's first look
// (subscriber.firstConfirmed); but the look only asks whether each slot
// held is still live in Redis. A snapshot keeps the slots, live, and the
// keys' expiries as they were then: the look finds nothing lost and asks
// nothing. Another instance, first to call, reloaded the scripts, so no
// NOSCRIPT tells a of the restart either. k must not expire under a's
// slot at the restored expiry, as in
// TestRestartThatRestoresAnOlderKeyExpiryDoesNotLetTheKeyExpireUnderAHeldSlot.
//
// Here a's pooled connections go through one proxy (pool), its pub/sub
// connection, dialled at its first slot, through another (sub), frozen:
// the canary's SUBSCRIBE waits there (its timeouts raised above the wait,
// so that no subscribe fails). a takes k (limit 1); its rounds renew it;
// Redis saves after the second round; once a has a later round confirmed,
// Redis is killed and started again from the snapshot, and the scripts
// are loaded again (another instance). The sub proxy thaws: a's canary is
// confirmed for the first time, on the restarted Redis, and its first look
// finds a's slot of k live. Then, as in the test above, a's rounds renew
// the slot late enough that it lives on past the restored expiry, and the
// pool proxy freezes: if k expires at the expiry the restart restored, b
// takes k while a holds it.
func TestRestartBeforeTheCanarysFirstLookThatRestoresAnOlderKeyExpiryDoesNotLetTheKeyExpireUnderAHeldSlot(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	pool := redistest.NewProxy(t, srv.Addr)
	sub := redistest.NewProxy(t, srv.Addr)
	t.Cleanup(sub.Thaw)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)

	var subNext atomic.Bool // the next dial is the subscriber's
	subDialing := make(chan struct{}, 1)
	opts := srv.Options()
	opts.ReadTimeout, opts.WriteTimeout = waitLong, waitLong // the pub/sub handshake waits through the partition
	opts.Dialer = func(ctx context.Context, network, _ string) (net.Conn, error) {
		addr := pool.Addr
		if subNext.CompareAndSwap(true, false) {
			addr = sub.Addr
			sendOrDrop(subDialing, struct{}{})
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	if err := redisslot.LoadScripts(ctx, client); err != nil { // opens the pooled connection
		t.Fatal(err)
	}
	aErrs := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: olderExpiryLease, ReleaseTimeout: waitLong, OnError: aErrs.add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*waitLong)) })
	t.Cleanup(pool.Thaw) // first: a's frees get through as it closes
	b := newFixture(t, srv, redisslot.Options{Lease: olderExpiryLease})
	life := redisslot.Life(a)

	sub.Freeze()
	subNext.Store(true)
	held, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	recv(t, subDialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")
	rkey := redisslot.SlotKey(a, "k")
	expiry := func() int64 { return raw.PExpireTime(ctx, rkey).Val().Milliseconds() }
	score := func() float64 {
		ms := members(t, raw, rkey)
		if len(ms) == 0 {
			t.Fatalf("k has no member in Redis; a's slot of k: err %v, cause %v; OnError got %v", held.Err(), context.Cause(held), aErrs.all())
		}
		return raw.ZScore(ctx, rkey, ms[0].Member.(string)).Val()
	}
	firstEnds := score()

	// Two rounds, then the snapshot: its lease must outlive the restart
	// until a's next round, which renews it there.
	eventuallyWithin(t, waitAfter(olderExpiryLease), "a round renews a's slot", func() bool { return score() > firstEnds })
	secondEnds := score()
	eventuallyWithin(t, waitAfter(olderExpiryLease), "a second round renews a's slot", func() bool { return score() > secondEnds })
	restored, saved := snapshot(t, raw, pool, expiry)
	eventuallyWithin(t, waitAfter(2*olderExpiryLease), "a round sent after the snapshot, confirmed", func() bool {
		return redisslot.LeaseConfirmedAt(a, "k").After(saved)
	})
	kept := redisslot.LeaseConfirmedAt(a, "k")
	if redisslot.CanaryConfirmed(a) || redisslot.CanaryChecked(a) {
		t.Fatalf("a's canary got through the frozen proxy: this test is of a restart before its first confirmation")
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // from the snapshot
		t.Fatal(err)
	}
	if err := redisslot.LoadScripts(ctx, raw); err != nil { // another instance, first to call
		t.Fatal(err)
	}
	// The snapshot's expiry, unless a round of a's has reached the
	// restarted Redis and extended k: what k has now.
	got := expiry()
	if got < restored {
		t.Fatalf("k expires at %d after the restart; want %d, the snapshot's, or later", got, restored)
	}
	restored = got

	sub.Thaw() // a's canary reaches the restarted Redis: its first look
	eventuallyWithin(t, waitAfter(waitAtOnce), "a's canary is confirmed and its first look done", func() bool {
		return redisslot.CanaryConfirmed(a) && redisslot.CanaryChecked(a)
	})
	if errs := aErrs.all(); len(errs) > 0 {
		t.Fatalf("a saw errors across the restart (%v): a round fell in the restart, which this test is not of", errs)
	}

	// As in the test above: a round confirmed late enough that a's slot
	// outlives the restored expiry by a sixth of a Lease.
	from := time.UnixMilli(restored).Add(-life + olderExpiryLease/6)
	eventuallyWithin(t, waitAfter(time.Until(from)+olderExpiryLease/3), "a's rounds renew its slot after the restart", func() bool {
		return score() >= float64(from.Add(olderExpiryLease).UnixMilli())
	})
	redisslot.RenewNow(a)
	pool.Freeze() // a's rounds from now on are held: none extends k
	if err := held.Err(); err != nil {
		t.Fatalf("a's slot of k ended (%v, cause %v) at the round after the restart; want it renewed: the snapshot kept it (OnError got %v)",
			err, context.Cause(held), aErrs.all())
	}
	renewed := time.Now()

	eventuallyWithin(t, waitAfter(time.Until(time.UnixMilli(restored))), "k expires, or the expiry the restart restored passes", func() bool {
		return raw.Exists(ctx, rkey).Val() == 0 || redisNowMs(t, raw) > float64(restored)
	})
	_, relOther, err := b.l.TryAcquire(ctx, "k", 1)
	if err == nil {
		defer relOther()
	}
	switch {
	case err == nil && held.Err() == nil:
		t.Errorf("b took k (limit 1) %v after a's last round, while a still holds it (its slot ends %v after that round): two holders; k expired at %d, the expiry the restart restored, %v after a's last round before the restart, which the restart undid; the canary's first look, on the restarted Redis, found a's slot live; want each round that renews a's slot to extend k",
			time.Since(renewed).Round(time.Millisecond), life, restored, time.UnixMilli(restored).Sub(kept).Round(time.Millisecond))
	case err == nil:
		t.Logf("b took k after a's slot ended (%v)", context.Cause(held))
	case !errors.Is(err, redisslot.ErrFull):
		t.Fatalf("b's TryAcquire(k, 1): %v; want ErrFull while a holds k", err)
	}
}
