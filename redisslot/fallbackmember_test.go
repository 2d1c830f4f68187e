package redisslot_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// A caller sent back to Redis after its try was sent and lost, and the
// fallback share turned it away, tries again under a member id of its own:
// the free of the lost try's member, unsure and so with a tombstone, must
// neither undo the slot the new try takes nor refuse it. Here Redis cannot
// be reached except by the first acquire, which runs but whose reply is
// lost: that begins the fallback state and sends the caller to the share.
// The share has nothing for the key by the time the caller looks again
// (its Fallback function answers 1, then 0, as when the state ends in
// between) and Redis answers from then on, so the caller goes back to
// Redis. The slot it returns must be counted in Redis once its Limiter has
// no free pending.
func TestCallerBackFromTheShareTriesUnderANewMember(t *testing.T) {
	var down, lose atomic.Bool
	var shareCalls atomic.Int64
	opts := redisslot.Options{Lease: longLease, Fallback: func(string, int) int {
		if shareCalls.Add(1) == 1 {
			return 1
		}
		down.Store(false) // Redis answers again
		return 0
	}}
	_, f, h := pair(t, opts)
	f.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		switch {
		case !down.Load():
			return next()
		case lose.Swap(false):
			_ = next() // Redis runs it; the reply is lost
		}
		return failWith(cmds, io.ErrUnexpectedEOF)
	}})
	ctx := ctxWithTimeout(t)
	down.Store(true)
	lose.Store(true)
	_, rel, err := f.l.Acquire(ctx, "k", 1)
	if err != nil {
		t.Fatalf("Acquire: %v; want a slot from Redis, which answers again", err)
	}
	defer rel()
	if n := shareCalls.Load(); n < 2 {
		t.Fatalf("Fallback called %d times; want 2 or more, the caller looked at the share twice", n)
	}
	eventually(t, "the pending frees are sent", func() bool { return f.l.Stats().PendingFrees == 0 })
	if n := inUse(t, h.l, "k"); n != 1 {
		t.Errorf("InUse = %d while Acquire's slot is held; want 1", n)
	}
	if _, rel2, err := h.l.TryAcquire(ctx, "k", 1); err == nil {
		rel2()
		t.Errorf("TryAcquire of limit 1 took a second slot while Acquire's slot is held")
	}
}
