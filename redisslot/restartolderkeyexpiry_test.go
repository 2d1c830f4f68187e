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
// renews every slot the snapshot kept, so no lease is lost; but the Limiter
// still counts on the key extension Redis confirmed after the snapshot, and
// the restart undid (leaseClock.extends trusts heldKey.kept across it). Its
// rounds do not extend the key again until a slot's life after that lost
// extension, and the key expires, at the restored expiry, under a slot its
// holder keeps: another instance takes it, beyond the limit.
//
// Here a takes k (limit 1) and its rounds renew it; Redis saves (SAVE)
// after a round that left the expiry alone, and before the round a slot's
// life later that extends it. Once a has that extension confirmed, Redis
// is killed and started again from the snapshot: k is back, its slot
// live, its expiry two leases after the acquire. a renews the slot after
// the restart (a round that Redis confirms), and its network to Redis then
// holds every byte (the in-test proxy, frozen), so that no later round
// extends k by chance of its timing: a's slot lives on, by a's clock, a
// slot's life after that round, which is a sixth of a Lease and more after
// the restored expiry. k expires; b takes k while a still holds it.
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
	// Its canary's first look forgets the keys' extensions: before k is taken.
	warmUp(t, a)
	b := newFixture(t, srv, redisslot.Options{Lease: olderExpiryLease})
	life := redisslot.Life(a)

	held, rel := mustTry(t, a, ctx, "k", 1)
	defer rel()
	rkey := redisslot.SlotKey(a, "k")
	acquired := redisslot.KeyKeptSince(a, "k")
	expiry := func() int64 { return raw.PExpireTime(ctx, rkey).Val().Milliseconds() }
	score := func() float64 { return raw.ZScore(ctx, rkey, members(t, raw, rkey)[0].Member.(string)).Val() }
	restored, firstEnds := expiry(), score()

	// A round that renews the slot and leaves the expiry alone; then the snapshot.
	eventuallyWithin(t, waitAfter(olderExpiryLease), "a round renews a's slot", func() bool { return score() > firstEnds })
	if err := raw.Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	if got := expiry(); got != restored {
		t.Fatalf("k expires at %d after the snapshot; want %d, its acquire's (a round extended it too soon to test)", got, restored)
	}
	eventuallyWithin(t, waitAfter(2*olderExpiryLease), "a round extends k, confirmed", func() bool {
		return redisslot.KeyKeptSince(a, "k").After(acquired)
	})
	kept := redisslot.KeyKeptSince(a, "k")
	if got := expiry(); got <= restored {
		t.Fatalf("k expires at %d after a's confirmed extension; want later than %d", got, restored)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // from the snapshot
		t.Fatal(err)
	}
	// The snapshot's expiry, unless a's round after the restart (its
	// canary's reconnect asks one) has already extended k.
	if got := expiry(); got < restored {
		t.Fatalf("k expires at %d after the restart; want %d, the snapshot's, or later", got, restored)
	}

	// A round confirmed late enough that a's slot outlives the restored
	// expiry by a sixth of a Lease, and well before a slot's life after
	// the extension the restart lost. a's own rounds, a third of a Lease
	// apart, renew the slot (its score: when the round ran, plus a Lease)
	// past the point from which such a round may start.
	from := time.UnixMilli(restored).Add(-life + olderExpiryLease/6)
	if !from.Add(olderExpiryLease / 3).Before(kept.Add(life - olderExpiryLease/6)) {
		t.Fatalf("the round after the restart would be at %v, too close to a slot's life after k's last extension (%v)", from, kept.Add(life))
	}
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
		t.Errorf("b took k (limit 1) %v after a's last round, while a still holds it (its slot ends %v after that round): two holders; k expired at %d, the expiry the restart restored, %v after a's last extension of it, which the restart undid",
			time.Since(renewed).Round(time.Millisecond), life, restored, time.UnixMilli(restored).Sub(kept).Round(time.Millisecond))
	case err == nil:
		t.Logf("b took k after a's slot ended (%v)", context.Cause(held))
	case !errors.Is(err, redisslot.ErrFull):
		t.Fatalf("b's TryAcquire(k, 1): %v; want ErrFull while a holds k", err)
	}
}
