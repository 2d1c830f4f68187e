package redisslot_test

import (
	"context"
	"fmt"
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

// Promise 5: an acquire, and every renewal round, keep the slot set a
// whole lease longer than the last lease in it, so that no copy of the key
// that has a lease (a replica's that missed later writes, a snapshot's)
// expires before that lease ends.
func TestEveryRenewalKeepsItsKeyALeaseLongerThanItsLeases(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // no round of its own comes between the rounds below
	raw := srv.Client(t)
	rkeys := takeOnKeys(t, f.l, 20)
	first := keyLives(t, raw, rkeys)
	outlastsByALease(t, rkeys, first, "after the acquires")
	for round := 1; round <= 3; round++ {
		waitForRedisClockTick(t, raw)
		redisslot.RenewNow(f.l)
		lives := keyLives(t, raw, rkeys)
		outlastsByALease(t, rkeys, lives, fmt.Sprint("after round ", round))
		for i, kl := range lives {
			if kl.lastEnds <= first[i].lastEnds {
				t.Fatalf("%s: lease ends at %d after round %d, as after its acquire; want the rounds to renew it", rkeys[i], kl.lastEnds, round)
			}
		}
	}
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("OnError got %v", errs)
	}
}

// outlastsByALease fails t unless each slot set expires a whole lease
// (longLease) after the last lease in it ends, or later.
func outlastsByALease(t testing.TB, rkeys []string, lives []keyLife, when string) {
	t.Helper()
	outlivesLeases(t, rkeys, lives, when)
	for i, kl := range lives {
		if by := kl.expiry - kl.lastEnds; by < longLease.Milliseconds() {
			t.Fatalf("%s: %s expires %d ms after its last lease ends; want a lease (%d ms) or more", when, rkeys[i], by, longLease.Milliseconds())
		}
	}
}

// Promise 5, its safety: while the slots are renewed round after round, at
// Lease/3, every slot stays in Redis. A key that expired under a live lease would lose them
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
