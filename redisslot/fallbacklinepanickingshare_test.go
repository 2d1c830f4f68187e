package redisslot_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A caller waiting in a key's queue in Redis asks Options.Fallback for its
// share when the state begins, after it was given its turn in the key's
// line moving to the share. If Fallback panics there (a share table not
// loaded yet, say), the panic leaves Acquire, which net/http recovers,
// with the waiter still in the Limiter's local queue and its turn never
// ended: the key's line stays "moving" for good, and every later Acquire
// of the key on this Limiter waits behind it until its ctx ends, with
// Redis back and room for it. (The waiter left behind also keeps its entry
// in Redis's queue, renewed with the others'; a later caller passes it
// there while the limit has room for both.) Here k has 4 holders of another
// instance; a caller passing limit 4 waits; Redis is cut off, and Fallback
// panics for that caller once; Redis comes back and two holders leave. An
// Acquire of k passing limit 4, which Redis has room for, must get its slot.
func TestFallbackThatPanicsForAWaiterDoesNotStickTheKeysLine(t *testing.T) {
	fallbackEndingAWaiterLeavesTheLine(t, func() { panic("test: share table not loaded") })
}

// The same, for a Fallback that ends its goroutine (runtime.Goexit, as
// t.FailNow does): no panic unwinds Acquire, and the waiter must leave
// its line all the same.
func TestFallbackThatEndsItsGoroutineForAWaiterDoesNotStickTheKeysLine(t *testing.T) {
	fallbackEndingAWaiterLeavesTheLine(t, runtime.Goexit)
}

// fallbackEndingAWaiterLeavesTheLine stages the tests above: Fallback runs
// end, for the waiter, once.
func fallbackEndingAWaiterLeavesTheLine(t *testing.T, end func()) {
	const limit = 4
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	c := fbClient(t, srv, p.Addr)
	var panicOnce atomic.Bool
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(_ string, lim int) int {
			if lim == limit && panicOnce.CompareAndSwap(true, false) {
				end()
			}
			return 1
		},
	})
	t.Cleanup(func() { _ = l.Close() })
	t.Cleanup(p.Thaw) // before Close: its frees get through
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	full := redisNowMs(t, direct) + float64(waitLong.Milliseconds()) // holders of another instance, live to the end
	for i := range limit {
		if err := direct.ZAdd(ctx, redisslot.SlotKey(l, "k"), redis.Z{Score: full, Member: fmt.Sprintf("other-%d/%d", i, limit)}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	returned := make(chan bool, 1) // whether the Acquire returned
	go func() {
		done := false
		defer func() {
			_ = recover() // as net/http does for a handler
			returned <- done
		}()
		_, rel, err := l.Acquire(ctx, "k", limit)
		if err == nil {
			rel()
		}
		done = true
	}()
	eventually(t, "the caller waits in k's queue", func() bool { return redisslot.Waiters(l, "k") == 1 })
	panicOnce.Store(true)
	p.Freeze()
	if recv(t, returned, waitLong, "the waiter asks Fallback its share once Redis is cut off") {
		t.Fatal("the waiter's Acquire returned; want Fallback to end it")
	}
	p.Thaw()
	eventually(t, "the fallback state ends once Redis answers", func() bool { return !l.Stats().Degraded })

	if err := direct.ZRem(ctx, redisslot.SlotKey(l, "k"), "other-0/4", "other-1/4").Err(); err != nil {
		t.Fatal(err) // two holders leave: room for the waiter and one more
	}
	got, nctx := make(chan error, 1), ctxWithin(t, waitAtOnce)
	go func() {
		_, rel, err := l.Acquire(nctx, "k", limit)
		if err == nil {
			rel()
		}
		got <- err
	}()
	if err := recv(t, got, waitLong, "the Acquire of k returns"); err != nil {
		t.Fatalf("Acquire(k, %d), with Redis back and room for it, after Fallback panicked (or ended the goroutine) for a waiter of k as the state began = %v; want a slot: the waiter's turn in k's moving line was never ended, and every later Acquire of k waits behind it", limit, err)
	}
}
