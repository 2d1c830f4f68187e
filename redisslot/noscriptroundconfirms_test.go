package redisslot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 5, a lease counted from the last renewal Redis confirmed: a round
// answered NOSCRIPT loads the script and sends its renewals again, and Redis
// runs them and extends every lease. That is a confirmation like any other:
// a script cache emptied (a restart that kept the data, a failover, SCRIPT
// FLUSH) loses no lease. Here Redis's script cache is emptied before every
// round, and every round is sent again and answered; the holder must keep
// its slot past its life after its acquire.
func TestRenewalsSentAgainAfterNoScriptKeepTheHolderLive(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	raw := srv.Client(t)
	life := redisslot.Life(f.l)

	var flushing atomic.Bool
	var confirmed atomic.Int64 // renewals Redis ran after answering NOSCRIPT
	var mu sync.Mutex
	var lastSent time.Time  // when the last of them was sent
	var leaseEnds time.Time // when Redis's lease ends after it, on the local clock
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if !flushing.Load() {
			return next()
		}
		if cmds[0].Name() == "evalsha" {
			// The script cache emptied before the round reaches Redis.
			if err := raw.ScriptFlush(ctx).Err(); err != nil {
				t.Errorf("SCRIPT FLUSH: %v", err)
			}
			return next()
		}
		sent := time.Now()
		err := next()
		if err == nil && cmds[0].Err() == nil {
			score := raw.ZScore(ctx, redisslot.SlotKey(f.l, "k"), member(t, raw, redisslot.SlotKey(f.l, "k"))).Val()
			left := time.Duration(score-redisNowMs(t, raw)) * time.Millisecond
			mu.Lock()
			lastSent, leaseEnds = sent, time.Now().Add(left)
			mu.Unlock()
			confirmed.Add(1)
		}
		return err
	}})

	t.Cleanup(func() { flushing.Store(false) }) // before raw is closed: the rounds after the test flush nothing
	acquireSent := time.Now()
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	flushing.Store(true)

	// Four rounds take past the slot's life after its acquire.
	const rounds = 4
	eventuallyWithin(t, waitAfter(life+redisslot.RenewEvery(f.l)), "the holder's slot ends or four renewals sent again are confirmed",
		func() bool { return sctx.Err() != nil || confirmed.Load() >= rounds })
	if sctx.Err() == nil {
		return
	}
	ended := time.Since(acquireSent)
	mu.Lock()
	last, ends := lastSent, leaseEnds
	mu.Unlock()
	t.Errorf("slot ended (cause %v) %v after its acquire was sent, its life being %v, though Redis ran %d of its renewals sent again after NOSCRIPT, the last sent %v before the slot ended, which made Redis's lease run %v past that end; want the lease clock to count from the last renewal Redis confirmed",
		context.Cause(sctx), ended.Round(time.Millisecond), life, confirmed.Load(), time.Since(last).Round(time.Millisecond),
		time.Until(ends).Round(time.Millisecond))
}

// member returns the one member of the slot set rkey.
func member(t testing.TB, raw *redis.Client, rkey string) string {
	t.Helper()
	ms, err := raw.ZRange(context.Background(), rkey, 0, -1).Result()
	if err != nil || len(ms) != 1 {
		t.Errorf("ZRANGE %s = %v, %v; want one member", rkey, ms, err)
		return ""
	}
	return ms[0]
}
