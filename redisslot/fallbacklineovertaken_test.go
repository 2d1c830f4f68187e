package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// When the fallback state ends, the callers of a key's local line go back
// to Redis one after another, each joining the key's queue there in a
// round trip of its own. Until the first of them has joined, the key's
// queue in Redis is empty, and nothing stops a caller that arrives then:
// TryAcquire, which "returns ErrFull while the key has waiters", takes the
// slot that Redis has room for ahead of a caller that has waited in line
// since the outage, and an Acquire is admitted ahead of it the same way.
// Here the share (2) of k is held, with limit 3, and one caller waits in
// the share's line; Redis comes back, the share's slots are written into
// it (one slot left free) and the state ends. The waiter's join is held in
// a client hook, as a slow round trip would; a TryAcquire of k meanwhile
// must be refused ErrFull, not take the slot the waiter has waited for.
func TestFallbackLineGoingBackToRedisIsNotOvertaken(t *testing.T) {
	const limit = fbShare + 1 // Redis has room for one more than the share
	srv := redistest.Start(t)
	joining, unblock := make(chan struct{}, 1), make(chan struct{})
	var armed atomic.Bool
	l := fbLimiter(t, srv, "", &errLog{}, scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if mode, _ := cmds[0].Args()[scriptArg+3].(string); mode == "join" && armed.CompareAndSwap(true, false) {
			sendOrDrop(joining, struct{}{})
			select { // the waiter's join round trip, held
			case <-unblock:
			case <-ctx.Done():
			}
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for range fbShare { // the share, held to the end
		_, rel, err := l.TryAcquire(ctx, "k", limit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis down: %v; want a slot from the share", err)
		}
		t.Cleanup(rel)
	}
	wctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	waited := make(chan error, 1)
	go func() {
		_, rel, err := l.Acquire(wctx, "k", limit)
		if rel != nil {
			rel()
		}
		waited <- err
	}()
	eventually(t, "the caller waits in the share's line", func() bool { return l.Stats().Waiting == 1 })
	armed.Store(true)
	t.Cleanup(func() { // the hook's hold ends before Close waits for the call
		close(unblock)
		cancel()
		recv(t, waited, waitAtOnce, "the waiting Acquire returns")
	})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	recv(t, joining, waitLong, "the caller of the share's line goes back to Redis once the state ends")
	if l.Stats().Degraded {
		t.Fatal("the fallback state is on while its line goes back to Redis; want it ended")
	}

	_, rel, err := l.TryAcquire(ctx, "k", limit)
	if err == nil {
		rel()
		t.Fatalf("TryAcquire(k, %d), while a caller of the share's line, waiting since the outage, goes back to Redis, took the one slot Redis has room for; want ErrFull: the key has a waiter, and the slot is its", limit)
	}
	if !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire(k, %d) while a caller goes back to Redis = %v; want ErrFull", limit, err)
	}
}
