package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// olderExpiryLease is short enough that a slot set's two-lease expiry comes
// within the test, and long enough that a loaded machine under -race keeps
// each step well inside the windows below (a third of a Lease at least).
const olderExpiryLease = 3 * time.Second

// A Redis restart with persistence restores its last snapshot: the slots
// written before it, with their keys' expiries as they were then. A round
// renews every slot the snapshot kept, so no lease is lost; and each round
// that renews a slot must extend its key there too, or the key expires, at
// the restored expiry, under a slot its holder keeps: another instance
// takes it, beyond the limit.
//
// Here a takes k (limit 1) and its rounds renew it; Redis saves after a
// round, and a has a later round confirmed. Then Redis is killed and
// started again from the snapshot: k is back, its slot live, its expiry
// as that round left it. a renews the slot after the restart, late enough
// that it lives on, by a's clock, a sixth of a Lease past the restored
// expiry, and its network to Redis then holds every byte (the in-test
// proxy, frozen), so that no later round extends k by chance of its
// timing. k must not expire at the restored expiry: if it does, b takes k
// while a still holds it.
func TestRestartThatRestoresAnOlderKeyExpiryDoesNotLetTheKeyExpireUnderAHeldSlot(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	t.Cleanup(p.Thaw) // before a closes (cleanups run last first): its frees get through
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)

	opts := srv.Options()
	opts.Addr = p.Addr
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	if err := redisslot.LoadScripts(ctx, client); err != nil {
		t.Fatal(err)
	}
	aErrs := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: olderExpiryLease, ReleaseTimeout: time.Second, OnError: aErrs.add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*time.Second)) })
	// Its canary's first look comes before k is taken.
	warmUp(t, a)
	b := newFixture(t, srv, redisslot.Options{Lease: olderExpiryLease})
	life := redisslot.Life(a)

	held, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	rkey := redisslot.SlotKey(a, "k")
	expiry := func() int64 { return raw.PExpireTime(ctx, rkey).Val().Milliseconds() }
	score := func() float64 { return raw.ZScore(ctx, rkey, members(t, raw, rkey)[0].Member.(string)).Val() }
	firstEnds := score()

	// A round that renews the slot; then the snapshot, a's rounds held
	// meanwhile; then a later round, confirmed.
	eventuallyWithin(t, waitAfter(olderExpiryLease), "a round renews a's slot", func() bool { return score() > firstEnds })
	restored, saved := snapshot(t, raw, p, expiry)
	eventuallyWithin(t, waitAfter(2*olderExpiryLease), "a round sent after the snapshot, confirmed", func() bool {
		return redisslot.LeaseConfirmedAt(a, "k").After(saved)
	})
	kept := redisslot.LeaseConfirmedAt(a, "k")

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // from the snapshot
		t.Fatal(err)
	}
	// The snapshot's expiry, unless a's round after the restart (its
	// canary's reconnect asks one) has already extended k: what k has now.
	got := expiry()
	if got < restored {
		t.Fatalf("k expires at %d after the restart; want %d, the snapshot's, or later", got, restored)
	}
	restored = got

	// A round confirmed late enough that a's slot outlives the restored
	// expiry by a sixth of a Lease. a's own rounds, a third of a Lease
	// apart, renew the slot (its score: when the round ran, plus a Lease)
	// past the point from which such a round may start.
	from := time.UnixMilli(restored).Add(-life + olderExpiryLease/6)
	eventuallyWithin(t, waitAfter(time.Until(from)+olderExpiryLease/3), "a's rounds renew its slot after the restart", func() bool {
		return score() >= float64(from.Add(olderExpiryLease).UnixMilli())
	})
	redisslot.RenewNow(a)
	p.Freeze() // a's rounds from now on are held: none extends k
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
		t.Errorf("b took k (limit 1) %v after a's last round, while a still holds it (its slot ends %v after that round): two holders; k expired at %d, the expiry the restart restored, %v after a's last round before the restart, which the restart undid; want each round that renews a's slot to extend k",
			time.Since(renewed).Round(time.Millisecond), life, restored, time.UnixMilli(restored).Sub(kept).Round(time.Millisecond))
	case err == nil:
		t.Logf("b took k after a's slot ended (%v)", context.Cause(held))
	case !errors.Is(err, redisslot.ErrFull):
		t.Fatalf("b's TryAcquire(k, 1): %v; want ErrFull while a holds k", err)
	}
}

// snapshot has Redis save, with every byte from a's side of p held
// meanwhile, and returns k's expiry, by expiry, as read just before, and
// when p began to hold them: a round of a's sent later runs after the
// snapshot. (One already past p may run between the read and the save:
// the expiry the snapshot keeps is that, or later.)
func snapshot(t *testing.T, raw *redis.Client, p *redistest.Proxy, expiry func() int64) (restored int64, saved time.Time) {
	t.Helper()
	p.Freeze()
	defer p.Thaw()
	saved = time.Now()
	restored = expiry()
	if err := raw.Save(ctxWithTimeout(t)).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	return restored, saved
}
