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

// cutKey marks the ctx of the Acquire whose reply cutReply withholds.
type cutKey struct{}

// An Acquire whose ctx ends while its call is on its way leaves its member
// in Redis, unsure: its slot if Redis admitted it, its place if it joined
// the line. Its free, with a tombstone, goes out in the background. A
// TryAcquire of the key right after, on the same Limiter, removes that
// member first, as it does the frees on their way: it is not refused for a
// slot or a place that nobody holds.
//
// Here the free script is held back for the whole test, so that the
// background free cannot land first; the Acquire's script runs in Redis,
// and a hook then withholds its reply until the Acquire's deadline.
func TestTryAcquireRightAfterAnAcquireCutByItsCtxIsNotRefusedForItsMember(t *testing.T) {
	verifyNoLeaks(t)
	srv := redistest.Shared(t)
	ctx := ctxWithTimeout(t)
	f := newFixture(t, srv, redisslot.Options{Lease: time.Minute}) // no round runs meanwhile
	let := make(chan struct{})
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		select {
		case <-let:
			return next()
		case <-ctx.Done():
			return failWith(cmds, ctx.Err())
		}
	}})
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: cutReply})

	cutAcquire := func(key string) {
		t.Helper()
		cctx, cancel := context.WithTimeout(context.WithValue(ctx, cutKey{}, true), 200*time.Millisecond)
		defer cancel()
		if err := errOf(f.l.Acquire(cctx, key, 1)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire(%q) whose reply came after its deadline = %v; want %v", key, err, context.DeadlineExceeded)
		}
	}
	tryAfter := func(what, key string) {
		t.Helper()
		_, rel, err := f.l.TryAcquire(ctx, key, 1)
		if rel != nil {
			rel()
		}
		if err != nil {
			t.Errorf("TryAcquire(%q) right after an Acquire cut by its ctx, which %s: %v; want a slot", key, what, err)
		}
	}

	cutAcquire("free") // Redis admits it: its slot is held by nobody
	tryAfter("Redis admitted", "free")

	_, rel := mustTry(t, f.l, ctx, "full", 1)
	cutAcquire("full") // it joins the line behind the holder
	rel()
	tryAfter("joined the line", "full")

	close(let)
	eventually(t, "the frees land", func() bool { return f.l.Stats().PendingFrees == 0 })
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("OnError heard %v; want nothing", errs)
	}
}

// cutReply, a hook on the acquire script, lets the call of a ctx marked
// with cutKey run in Redis, then withholds its reply until ctx ends, and
// fails it with ctx's error, as go-redis does a call cut at its deadline.
func cutReply(ctx context.Context, cmds []redis.Cmder, next func() error) error {
	if ctx.Value(cutKey{}) == nil {
		return next()
	}
	if err := next(); err != nil {
		return err
	}
	<-ctx.Done()
	return failWith(cmds, ctx.Err())
}
