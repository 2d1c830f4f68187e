package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// keyLife is a slot set's expiry and its latest lease end, read at once.
type keyLife struct {
	expiry   int64 // PEXPIRETIME, in Redis milliseconds
	lastEnds int64 // the highest score, in Redis milliseconds
}

// keyLives reads, in one transaction, the expiry and the latest lease end
// of each slot set in rkeys.
func keyLives(t testing.TB, raw *redis.Client, rkeys []string) []keyLife {
	t.Helper()
	ctx := context.Background()
	var exps []*redis.DurationCmd
	var tops []*redis.ZSliceCmd
	_, err := raw.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range rkeys {
			exps = append(exps, p.PExpireTime(ctx, k))
			tops = append(tops, p.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: k, Start: 0, Stop: 0, Rev: true}))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("PEXPIRETIME and ZRANGE of the slot sets: %v", err)
	}
	lives := make([]keyLife, len(rkeys))
	for i := range rkeys {
		lives[i].expiry = exps[i].Val().Milliseconds()
		if top := tops[i].Val(); len(top) > 0 {
			lives[i].lastEnds = int64(top[0].Score)
		}
	}
	return lives
}

// outlivesLeases fails t unless each slot set expires no earlier than the
// last lease in it ends.
func outlivesLeases(t testing.TB, rkeys []string, lives []keyLife, when string) {
	t.Helper()
	for i, kl := range lives {
		if kl.lastEnds == 0 {
			t.Fatalf("%s: %s holds no slot; want the one taken", when, rkeys[i])
		}
		if kl.expiry < kl.lastEnds {
			t.Fatalf("%s: %s expires at %d, %d ms before its last lease ends (%d); want it to outlive every lease in it",
				when, rkeys[i], kl.expiry, kl.lastEnds-kl.expiry, kl.lastEnds)
		}
	}
}

// takeOnKeys takes one slot on each of n keys and returns their slot sets' names.
func takeOnKeys(t testing.TB, l *redisslot.Limiter, n int) []string {
	t.Helper()
	rkeys := make([]string, n)
	for i := range rkeys {
		key := fmt.Sprint("k", i)
		holdAbandoned(t, l, ctxWithTimeout(t), key, 1)
		rkeys[i] = testPrefix(t) + "{" + key + "}"
	}
	return rkeys
}

// Promise 5, its cost: a renewal round extends a key's expiry only when the
// last extension Redis confirmed no longer covers the leases it renews. An
// acquire makes its key live two leases from when it runs, so the rounds
// that follow within a slot's life renew the leases and leave the expiry
// alone, and the key still outlives every lease in it.
func TestRenewalExtendsAKeysExpiryOnlyWhenItMust(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // no round of its own comes between the rounds below
	raw := srv.Client(t)
	rkeys := takeOnKeys(t, f.l, 20)
	first := keyLives(t, raw, rkeys)
	outlivesLeases(t, rkeys, first, "after the acquires")
	for round := 1; round <= 3; round++ {
		redisslot.RenewNow(f.l)
		lives := keyLives(t, raw, rkeys)
		outlivesLeases(t, rkeys, lives, fmt.Sprint("after round ", round))
		for i, kl := range lives {
			if kl.lastEnds <= first[i].lastEnds && round == 3 {
				t.Errorf("%s: lease ends at %d after round 3, as after its acquire; want the rounds to renew it", rkeys[i], kl.lastEnds)
			}
			if kl.expiry != first[i].expiry {
				t.Fatalf("round %d moved the expiry of %s from %d to %d; want it left alone within a slot's life of the acquire",
					round, rkeys[i], first[i].expiry, kl.expiry)
			}
		}
	}
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("OnError got %v", errs)
	}
}

// Promise 5, its safety: a round that extends nothing as far as the Limiter
// knows (its reply lost, or not sent) leaves the next round to extend the
// keys.
func TestRenewalAfterAFailedOneExtendsTheKeys(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // no round of its own comes between the rounds below
	raw := srv.Client(t)
	rkeys := takeOnKeys(t, f.l, 5)
	errInjected := errors.New("test: renewal failed")
	var fail atomic.Bool
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if fail.Load() {
			return failWith(cmds, errInjected)
		}
		return next()
	}})
	redisslot.ForgetKeyExtensions(f.l) // as if the acquires' replies had not said so
	fail.Store(true)
	redisslot.RenewNow(f.l) // a round that must extend the keys, not sent
	fail.Store(false)
	before := keyLives(t, raw, rkeys)
	redisslot.RenewNow(f.l)
	after := keyLives(t, raw, rkeys)
	outlivesLeases(t, rkeys, after, "after the round that followed the failed one")
	for i := range rkeys {
		if after[i].expiry <= before[i].expiry {
			t.Errorf("%s expires at %d after the round that followed the failed one, as before it; want that round to extend it",
				rkeys[i], after[i].expiry)
		}
	}
	redisslot.RenewNow(f.l)
	again := keyLives(t, raw, rkeys)
	for i := range rkeys {
		if again[i].expiry != after[i].expiry {
			t.Errorf("%s: a third round moved its expiry from %d to %d; want the second's extension to cover it", rkeys[i], after[i].expiry, again[i].expiry)
		}
	}
	if !f.errs.has(errInjected) {
		t.Errorf("OnError got %v; want the failed round", f.errs.all())
	}
}

// Promise 5, its safety: while the slots are renewed round after round, at
// Lease/3, and the keys' expiry is extended only now and then, every slot
// stays in Redis. A key that expired under a live lease would lose them
// all, and let others take the slots their holders still have.
func TestSlotsOutliveTwoLeasesOfRenewalRounds(t *testing.T) {
	t.Parallel() // it mostly waits: it runs beside other such tests
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	raw := srv.Client(t)
	rkeys := takeOnKeys(t, f.l, 10)
	rounds := f.l.Stats().RenewalRounds
	eventuallyWithin(t, waitAfter(4*testLease), "9 renewal rounds", func() bool {
		done := f.l.Stats().RenewalRounds - rounds
		for i, kl := range keyLives(t, raw, rkeys) {
			if kl.lastEnds == 0 {
				t.Fatalf("after %d rounds, %s holds no slot; want the one taken, held and renewed (OnError got %v)", done, rkeys[i], f.errs.all())
			}
		}
		return done >= 9
	})
	if n := redisslot.Held(f.l); n != len(rkeys) {
		t.Errorf("the Limiter holds %d slots after 9 rounds; want the %d taken: a lease was lost (OnError got %v)", n, len(rkeys), f.errs.all())
	}
}
