package redisslot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A call cut short by its own ctx's deadline tells nothing of Redis: with
// ContextTimeoutEnabled, go-redis times the read out at that deadline,
// which may come before ctx's timer marks ctx done. Here each try's reply
// is held up longer than the caller's deadline, on a Redis that answers
// every other call at once: the Limiter must not begin the fallback state,
// nor report Redis unreachable. The moment the read times out and the
// moment ctx is marked done race, so the test makes several tries; on a
// Limiter that reads only ctx.Err, about a third of them begin the state.
func TestCallCutShortByItsDeadlineDoesNotBeginTheFallbackState(t *testing.T) {
	srv := redistest.Shared(t)
	const tries = 20
	for i := range tries {
		p := newDelayProxy(t, srv.Addr, 300*time.Millisecond, false, func(b []byte) bool {
			return containsAll(b, redisslot.AcquireHash)
		})
		o := srv.Options()
		o.Addr, o.MaxRetries, o.ContextTimeoutEnabled = p.addr, -1, true
		c := redis.NewClient(o)
		t.Cleanup(func() { _ = c.Close() })
		if err := redisslot.LoadScripts(ctxWithTimeout(t), c); err != nil {
			t.Fatal(err)
		}
		errs := &errLog{}
		l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: fbLease, OnError: errs.add,
			Fallback: func(string, int) int { return 1 }})
		t.Cleanup(func() { closeWithin(t, l, waitAfter(10*time.Second)) })
		ctx, cancel := context.WithTimeout(ctxWithTimeout(t), 50*time.Millisecond)
		_, rel, err := l.TryAcquire(ctx, "k", 1)
		cancel()
		if rel != nil {
			rel()
		}
		degraded := l.Stats().Degraded
		for _, e := range errs.all() {
			if strings.Contains(e.Error(), "cannot be reached") {
				t.Fatalf("try %d: TryAcquire whose 50ms deadline passed while its reply was held up (returned %v): OnError heard %q, Degraded %v; want no fallback state, Redis answers",
					i, err, e, degraded)
			}
		}
		if degraded {
			t.Fatalf("try %d: Degraded after a call cut short by its deadline; want false", i)
		}
	}
}
