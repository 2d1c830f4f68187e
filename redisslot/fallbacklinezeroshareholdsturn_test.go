package redisslot_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Acquire "joins the key's queue in Redis in the script that found it
// full", one queue shared by every instance. As the fallback state begins,
// each caller waiting in a key's queue in Redis here is given a turn in the
// key's line moving to the share, and later callers of the key wait behind
// that line. A waiter whose share is 0 (Fallback returns 0 for its limit)
// does not move: it stays in Redis's queue, and so does one whose try
// Redis answers after the state ended. Either way it keeps its turn, until
// it leaves Redis's queue, and the key's line stays "moving" that long: a
// new Acquire of the key here waits behind it without joining Redis's
// queue, where callers of other instances go ahead of it. Here k is full
// in Redis, a caller passing limit 1 (share 1/2 = 0) waits in its queue,
// and the state begins with one call of another key that meets an outage
// (a dead cluster node, say) and ends at once. A second Acquire of k must
// then join k's queue in Redis.
func TestFallbackWaiterWithNoShareDoesNotHoldUpTheKeysLine(t *testing.T) {
	srv := redistest.Start(t)
	var l *redisslot.Limiter
	var failX atomic.Bool
	opts := srv.Options()
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	c.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if key, _ := cmds[0].Args()[3].(string); key == redisslot.SlotKey(l, "x") && failX.CompareAndSwap(true, false) {
			return failWith(cmds, io.EOF) // x's node cannot be reached
		}
		return next()
	}})
	t.Cleanup(func() { _ = c.Close() })
	errs := &errLog{}
	l = redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: errs.add,
		Fallback: func(_ string, limit int) int { return limit / 2 },
	})
	t.Cleanup(func() { _ = l.Close() })
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	full := redisNowMs(t, direct) + float64(waitLong.Milliseconds()) // another instance's holder, live to the end
	if err := direct.ZAdd(ctx, redisslot.SlotKey(l, "k"), redis.Z{Score: full, Member: "other-0/1"}).Err(); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	first := waitingAcquire(t, wctx, l, "k", 1)
	t.Cleanup(func() { // before Close, which waits for the calls
		cancel()
		recv(t, first, waitAtOnce, "the first Acquire returns")
	})
	queue, _ := redisslot.QueueKeys(l, "k")

	// A call that meets the outage begins the state and takes a slot of x's
	// share, unless an answer to another call (the waiter's, woken as the
	// state begins, or the probe's) stops the granting first. The state then
	// stays on, granting nothing, until a round ends it: calls made
	// meanwhile go to the share and never meet the outage. So wait for the
	// state to end, and try again.
	for i := 0; l.Stats().FallbackAcquired == 0; i++ {
		if i == 20 {
			t.Fatal("20 calls of x met an outage and none took a slot of the fallback share")
		}
		eventually(t, "the fallback state is off before a call meets the outage", func() bool { return !l.Stats().Degraded })
		failX.Store(true)
		if _, rel, err := l.TryAcquire(ctx, "x", fbLimit); err == nil {
			rel()
		}
	}
	eventually(t, "the fallback state ends once Redis answers", func() bool { return !l.Stats().Degraded })
	if n, err := direct.ZCard(ctx, queue).Result(); err != nil || n != 1 {
		t.Fatalf("k's queue in Redis holds %d (%v); want the first caller, who has no share and stays", n, err)
	}

	second := make(chan error, 1)
	go func() {
		_, rel, err := l.Acquire(wctx, "k", 1)
		if rel != nil {
			rel()
		}
		second <- err
	}()
	t.Cleanup(func() {
		cancel()
		recv(t, second, waitAtOnce, "the second Acquire returns")
	})
	eventually(t, "a second Acquire of k joins k's queue in Redis behind the first caller (it waits instead, out of Redis's queue, behind the turn that the first caller, with a share of 0, was given as the state began and keeps while it stays in Redis's queue: callers of other instances go ahead of it)", func() bool {
		n, err := direct.ZCard(ctx, queue).Result()
		return err == nil && n == 2
	})
}
