package redisslot_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// cutHook makes every command of a client fail, unsent, with an error that
// reads as Redis out of reach, while cut is set.
func cutHook(cut *atomic.Bool) scriptHook {
	return scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cut.Load() {
			return failWith(cmds, io.ErrUnexpectedEOF)
		}
		return next()
	}}
}

// Options.Fallback: "while one instance cannot reach Redis, a key may have
// up to its limit plus that instance's share of holders". A fallback slot
// of a first outage, still held, is written into Redis above the limit
// when Redis answers; in a second outage of the same instance, it must
// still count in that instance's share, or the key has the limit plus two
// shares of holders.
func TestFallbackSlotStillHeldCountsInTheShareOfTheNextOutage(t *testing.T) {
	var cut atomic.Bool
	_, f, h := pair(t, redisslot.Options{Lease: fbLease, Fallback: func(string, int) int { return 1 }})
	f.client.AddHook(cutHook(&cut))
	defer cut.Store(false) // before the cleanups: Close frees what is held
	ctx := ctxWithTimeout(t)
	_, relH := mustTry(t, h.l, ctx, "k", 1) // the limit, held through Redis
	defer relH()

	cut.Store(true)
	_, rel1, err := f.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatalf("TryAcquire, first outage: %v; want a slot from the share of 1", err)
	}
	defer rel1()
	cut.Store(false)
	eventually(t, "the first outage's fallback state ends", func() bool { return !f.l.Stats().Degraded })
	if n := inUse(t, h.l, "k"); n != 2 {
		t.Fatalf("InUse once the first outage ended = %d; want 2, the fallback slot written into Redis above the limit", n)
	}

	cut.Store(true)
	_, rel2, err := f.l.TryAcquire(ctx, "k", 1)
	if err == nil {
		defer rel2()
		t.Fatalf("TryAcquire, second outage: a second fallback slot while the first is held: 3 holders of a limit-1 key, share 1; want ErrFull (at most limit + share = 2)")
	}
	if !errors.Is(err, redisslot.ErrFull) {
		t.Errorf("TryAcquire, second outage: %v; want ErrFull", err)
	}
}

// Stats: "FallbackAcquired is the slots handed out from the fallback
// shares, since New: they count in Acquired too". A call whose ctx ends
// after the share granted it a slot, but before it returns, gives the slot
// back and returns ctx's error: it counts in neither. Here the Fallback
// function ends the ctx when called for the call's key a second time, as
// the call checks the share and then takes from it.
func TestFallbackAcquiredCountsOnlySlotsReturned(t *testing.T) {
	var cut atomic.Bool
	ctx, cancel := context.WithCancel(ctxWithTimeout(t))
	defer cancel()
	var kCalls atomic.Int64
	f := newFixture(t, redistest.Shared(t), redisslot.Options{Lease: fbLease, Fallback: func(key string, _ int) int {
		if key == "k" && kCalls.Add(1) >= 2 {
			cancel()
		}
		return 1
	}})
	f.client.AddHook(cutHook(&cut))
	defer cut.Store(false)
	cut.Store(true)
	_, relJ, err := f.l.TryAcquire(ctx, "j", 1) // begins the fallback state
	if err != nil {
		t.Fatalf("TryAcquire of j with Redis cut off: %v; want a slot from the share", err)
	}
	defer relJ()
	_, rel, err := f.l.TryAcquire(ctx, "k", 1)
	if err == nil {
		rel()
		t.Fatalf("TryAcquire of k returned a slot though its ctx ended; the test cannot reach the path it checks")
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("TryAcquire of k: %v; want context.Canceled", err)
	}
	st := f.l.Stats()
	if st.Acquired != 1 || st.FallbackAcquired != 1 {
		t.Errorf("Stats after one fallback slot returned and one given back as ctx ended: Acquired %d, FallbackAcquired %d; want 1, 1",
			st.Acquired, st.FallbackAcquired)
	}
	if n := redisslot.FallbackHeld(f.l, "k"); n != 0 {
		t.Errorf("FallbackHeld(k) = %d after the slot was given back; want 0", n)
	}
}

// TryAcquire "returns ErrFull at once" or a slot; Options.Fallback says
// its function may be called more than once a call. A Fallback function
// whose answer changes between two of those calls (here it alternates 1
// and 0, as a share computed from a count of live instances may while that
// count moves) must not keep a call going between Redis and the share: each
// turn is one more failed call to Redis, and one more unsure free.
func TestTryAcquireEndsWhenTheShareChangesBetweenLooks(t *testing.T) {
	var cut atomic.Bool
	var calls, redisCalls atomic.Int64
	f := newFixture(t, redistest.Shared(t), redisslot.Options{Lease: fbLease, Fallback: func(string, int) int {
		return int(calls.Add(1) % 2)
	}})
	// The acquires are counted, not the frees and probes the Limiter sends
	// in the background meanwhile: the counter sees each call before the cut.
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cut.Load() {
			redisCalls.Add(1)
		}
		return next()
	}})
	f.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cut.Load() {
			return failWith(cmds, io.ErrUnexpectedEOF)
		}
		return next()
	}})
	defer cut.Store(false)
	cut.Store(true)
	ctx := ctxWithin(t, 2*time.Second)
	_, rel, err := f.l.TryAcquire(ctx, "k", 1)
	if rel != nil {
		rel()
	}
	if n := redisCalls.Load(); n > 2 {
		t.Errorf("TryAcquire with Redis cut off and a share that changes between looks: %v after %d acquire calls to Redis, %d of Fallback, %d pending frees; want it to end at once, after at most 2",
			err, n, calls.Load(), f.l.Stats().PendingFrees)
	}
}

// Close ends what the Limiter does: Stats after Close reports no fallback
// state, and OnError hears of its end as of its beginning, even when Close
// comes during an outage with a fallback slot held.
func TestCloseDuringTheFallbackStateEndsIt(t *testing.T) {
	var cut atomic.Bool
	f := newFixture(t, redistest.Shared(t), redisslot.Options{Lease: fbLease, Fallback: func(string, int) int { return 1 }})
	f.client.AddHook(cutHook(&cut))
	cut.Store(true)
	_, rel, err := f.l.TryAcquire(ctxWithTimeout(t), "k", 1)
	if err != nil {
		t.Fatalf("TryAcquire with Redis cut off: %v; want a slot from the share", err)
	}
	defer rel()
	cut.Store(false)
	closeWithin(t, f.l, waitAtOnce)
	if f.l.Stats().Degraded {
		t.Errorf("Stats().Degraded after Close; want false, the Limiter serves nothing")
	}
	var begun, ended bool
	for _, err := range f.errs.all() {
		begun = begun || strings.Contains(err.Error(), "cannot be reached")
		ended = ended || strings.Contains(err.Error(), "fallback shares are ended")
	}
	if !begun || !ended {
		t.Errorf("OnError heard %v; want the state's beginning and its end", f.errs.all())
	}
}
