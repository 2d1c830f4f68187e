package redisslot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// An Acquire whose ctx ended has left the key's line when it returns
// ("a waiter whose ctx ends leaves the queue"). A TryAcquire of the key on
// the same Limiter right after, with the key's one slot just released, must
// take that slot: nobody holds it and nobody waits for it. It is refused
// with ErrFull instead, for the place of the waiter that gave up: the try
// carries the pending free of the released slot (or names it on its way)
// but not that of the waiter's place (pendingFrees.carry skips every kind
// but freeSlot), so the acquire script still counts a waiter until the
// background free lands. The free calls are held back here until the
// TryAcquire returns, as a slow link would: without that hold the refusal
// comes in about half the runs, as the background free and the try race.
func TestTryAcquireRightAfterAnAcquireGaveUpTakesTheFreeSlot(t *testing.T) {
	srv := redistest.Shared(t)
	// No round within the test: one would carry the waiter's place free
	// behind the holder's renewal, past the hook, and the try could pass
	// with the bug it guards.
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // and none that the canary's first confirmation asks
	unblock := make(chan struct{})
	var once sync.Once
	letFreesGo := func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(letFreesGo) // before Close, which sends frees
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		select {
		case <-unblock:
		case <-ctx.Done():
			return failWith(cmds, ctx.Err())
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, holder := mustTry(t, f.l, ctx, "k", 1)
	// The waiter gives up while no call of its is on its way: its join
	// answered, and no retry (one cut short leaves its place unsure, freed
	// in the background with a tombstone, which no try carries).
	redisslot.SetRetryInterval(f.l, time.Hour)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gaveUp := waitingAcquire(t, wctx, f.l, "k", 1)
	eventually(t, "the waiter's place is in k's line in Redis", func() bool {
		ld, err := f.l.Load(ctx, "k")
		return err == nil && ld[0].Waiting == 1
	})
	cancel()
	if err := recv(t, gaveUp, waitAtOnce, "the Acquire gives up as its ctx ends"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire on a full key whose ctx ended = %v; want context.Canceled", err)
	}
	holder()
	_, rel, err := f.l.TryAcquire(ctx, "k", 1)
	letFreesGo()
	if err != nil {
		st := f.l.Stats()
		t.Fatalf("TryAcquire right after the only holder released and the only waiter gave up = %v (Held %d, Waiting %d, PendingFrees %d); want the free slot",
			err, st.Held, st.Waiting, st.PendingFrees)
	}
	rel()
}
