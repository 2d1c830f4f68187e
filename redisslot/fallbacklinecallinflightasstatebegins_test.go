package redisslot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// As the fallback state begins, "the callers waiting in a key's line in
// Redis here go to the share's line in their order", and TryAcquire
// "returns ErrFull while the key has waiters". A call of the key that was
// on its way to Redis when it was lost (its round trip hangs until the
// client gives up) checked for a moving line before there was one, and
// once its call fails it goes to the share with no turn: it takes the
// share's slot ahead of the callers that waited in Redis's queue before it
// came. Here k is full in Redis, a caller waits in its queue, Redis is cut
// off, and a TryAcquire of k is sent at once; the waiter is held up in
// Options.Fallback as it moves, as a goroutine not yet scheduled would be. The TryAcquire must
// not take the share's slot: the key has a waiter, ahead of it.
func TestFallbackCallInFlightAsTheStateBeginsDoesNotOvertakeRedisWaiters(t *testing.T) {
	const limit, tryLimit = 4, 3 // the waiter passes limit; Fallback is held up for it alone
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	opts := srv.Options()
	opts.Addr = p.Addr
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	asking, gate := make(chan struct{}, 1), make(chan struct{})
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(_ string, lim int) int {
			if lim == limit { // the waiter, slow to learn its share
				sendOrDrop(asking, struct{}{})
				<-gate
			}
			return 1
		},
	})
	openGate := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(func() { _ = l.Close() })
	t.Cleanup(openGate) // before Close, which waits for the calls
	t.Cleanup(p.Thaw)   // before Close: its frees get through
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	full := redisNowMs(t, direct) + float64(waitLong.Milliseconds()) // holders of another instance, live to the end
	for i := range limit {
		if err := direct.ZAdd(ctx, redisslot.SlotKey(l, "k"), redis.Z{Score: full, Member: fmt.Sprintf("other-%d/%d", i, limit)}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	waited := waitingAcquire(t, wctx, l, "k", limit)
	t.Cleanup(func() {
		openGate()
		cancel()
		recv(t, waited, waitAtOnce, "the waiting Acquire returns")
	})

	p.Freeze()
	_, rel, err := l.TryAcquire(ctx, "k", tryLimit)
	if err == nil {
		rel()
		t.Fatal("TryAcquire(k), sent as Redis was cut off, took the share's slot once its call failed, ahead of the caller that waits in k's queue since before it came; want ErrFull: the key has a waiter")
	}
	if !l.Stats().Degraded {
		t.Fatalf("TryAcquire(k) as Redis was cut off = %v, and the fallback state is off; want it on", err)
	}
	recv(t, asking, waitAtOnce, "the waiter in Redis's queue moves to the share's line")
}
