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
// may have missed the last writes. The new master's script cache is empty,
// so the first round sent to it is answered NOSCRIPT: its renewals, sent
// again, renew every lease and extend every key a lease beyond it. Here
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
	outlastsByALease(t, rkeys, flushed, "after the round answered NOSCRIPT")
	for i := range rkeys {
		if flushed[i].lastEnds <= before[i].lastEnds {
			t.Fatalf("%s: lease ends at %d after the round answered NOSCRIPT, as before it; want the round sent again to renew it", rkeys[i], flushed[i].lastEnds)
		}
		if flushed[i].expiry <= before[i].expiry {
			t.Errorf("%s expires at %d after the round answered NOSCRIPT, as before it; want the renewals sent again to extend every key",
				rkeys[i], flushed[i].expiry)
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
