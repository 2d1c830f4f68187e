package redisslot_test

import (
	"context"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 5, its safety against a failover that no call sees fail: a proxy
// in front of Redis that moves its connections to a promoted replica, which
// may have missed the last extension of a key. The Limiter counts on that
// extension (see TestRenewalExtendsAKeysExpiryOnlyWhenItMust) and would not
// extend the key again until a slot's life after it: the key would expire,
// at the older expiry, under a slot still held. The new master's script
// cache is empty, so the first round sent to it is answered NOSCRIPT: that
// round's renewals, sent again, extend every key, and the round confirms
// those extensions, so that the next round leaves the keys alone. Here
// SCRIPT FLUSH empties the cache with the data as it was, which is what
// the round sees of such a failover.
func TestRoundAnsweredNoScriptExtendsEveryKey(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l)
	raw := srv.Client(t)
	rkeys := takeOnKeys(t, f.l, 5)
	before := keyLives(t, raw, rkeys)
	if err := raw.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	waitForRedisClockTick(t, raw)
	redisslot.RenewNow(f.l) // answered NOSCRIPT, then sent again
	flushed := keyLives(t, raw, rkeys)
	outlivesLeases(t, rkeys, flushed, "after the round answered NOSCRIPT")
	for i := range rkeys {
		if flushed[i].lastEnds <= before[i].lastEnds {
			t.Fatalf("%s: lease ends at %d after the round answered NOSCRIPT, as before it; want the round sent again to renew it", rkeys[i], flushed[i].lastEnds)
		}
		if flushed[i].expiry <= before[i].expiry {
			t.Errorf("%s expires at %d after the round answered NOSCRIPT, as before it; want the renewals sent again to extend every key: the data may be a replica's that missed the last extension",
				rkeys[i], flushed[i].expiry)
		}
	}
	waitForRedisClockTick(t, raw)
	redisslot.RenewNow(f.l)
	after := keyLives(t, raw, rkeys)
	for i := range rkeys {
		if after[i].expiry != flushed[i].expiry {
			t.Errorf("%s: the round after the one answered NOSCRIPT moved its expiry from %d to %d; want the extension sent again confirmed, and the key left alone",
				rkeys[i], flushed[i].expiry, after[i].expiry)
		}
	}
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("OnError got %v", errs)
	}
}

// waitForRedisClockTick waits until Redis's clock has moved on by a
// millisecond at least, so that an extension to two leases from now moves
// an expiry set before it.
func waitForRedisClockTick(t testing.TB, raw *redis.Client) {
	t.Helper()
	start := redisNowMs(t, raw)
	eventually(t, "Redis's clock moves on a millisecond", func() bool { return redisNowMs(t, raw) > start })
}
