package slotstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
)

// shortWait is the wait the suite gives slots.AcquireWithin when it must
// run out: long enough to be measured, short enough to cost little.
const shortWait = 50 * time.Millisecond

// testAcquireWithinTimesOut checks that slots.AcquireWithin of a full key
// waits at least its wait, then returns an error that wraps ErrWaitTimeout
// and ErrFull and names the key, having left the line and taken no slot.
func testAcquireWithinTimesOut(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("within")
	h := mustTry(t, ls[0], t.Context(), key, 1)
	start := time.Now()
	ch := make(chan result, 1)
	go func() {
		sctx, rel, err := slots.AcquireWithin(t.Context(), ls[1], key, 1, shortWait)
		ch <- result{sctx, rel, err}
	}()
	r := recv(t, ch, "AcquireWithin of a full key")
	took := time.Since(start)
	if r.err == nil {
		r.rel()
		t.Fatalf("AcquireWithin of a full key took a slot; want ErrWaitTimeout")
	}
	if !errors.Is(r.err, slots.ErrWaitTimeout) || !errors.Is(r.err, slots.ErrFull) {
		t.Errorf("AcquireWithin of a full key = %v; want an error matching ErrWaitTimeout and ErrFull", r.err)
	}
	if want := fmt.Sprintf("slots: no free slot within %v for key %s", shortWait, slots.QuoteKey(key)); r.err.Error() != want {
		t.Errorf("AcquireWithin of a full key = %q; want %q", r.err, want)
	}
	if took < shortWait {
		t.Errorf("AcquireWithin gave up after %v; want at least its wait, %v", took, shortWait)
	}
	loadIs(t, ls[0], key, 1, 0)
	h.rel()
	inUseIs(t, ls[1], key, 0)
	mustTry(t, ls[1], t.Context(), key, 1).rel()
}

// testAcquireWithinSlotOutlivesWait checks that a slot from
// slots.AcquireWithin, taken at once or after waiting, is not ended by the
// end of the wait: it is still held three waits later, and ends with its
// caller's ctx.
func testAcquireWithinSlotOutlivesWait(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("outlives")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := time.Now()
	sctx, rel, err := slots.AcquireWithin(ctx, ls[0], key, 2, shortWait)
	if err != nil {
		t.Fatalf("AcquireWithin of a free key: %v", err)
	}
	defer rel()
	h := mustTry(t, ls[1], t.Context(), key, 2)
	ch := make(chan result, 1)
	go func() {
		sctx, rel, err := slots.AcquireWithin(ctx, ls[1], key, 2, patience)
		ch <- result{sctx, rel, err}
	}()
	loadIs(t, ls[0], key, 2, 1)
	h.rel()
	w := recvSlot(t, ch, "AcquireWithin of a key freed during the wait")
	defer w.rel()

	eventually(t, func() string {
		if d := time.Since(start); d < 3*shortWait {
			return fmt.Sprintf("%v since the wait began", d) // polled, not slept: a guard for the clock only
		}
		return ""
	})
	if err := sctx.Err(); err != nil {
		t.Fatalf("slot taken at once: context done %v after its wait of %v: %v", time.Since(start), shortWait, context.Cause(sctx))
	}
	inUseIs(t, ls[0], key, 2)
	cancel()
	done(t, sctx, "slot taken at once, after its caller's ctx ended")
	done(t, w.ctx, "slot taken after waiting, after its caller's ctx ended")
	inUseIs(t, ls[1], key, 0)
}

// testAcquireWithinErrorsAsAcquire checks that slots.AcquireWithin returns
// Acquire's own errors, unchanged: ErrClosed, a full line (ErrQueueFull,
// not ErrWaitTimeout), bad arguments, a done ctx; and that a wait of 0
// is TryAcquire, refused with ErrFull without joining the line.
func testAcquireWithinErrorsAsAcquire(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{MaxWaiters: 1})
	l := ls[0]
	ctx, cancel := context.WithTimeout(t.Context(), patience) // ends a wait only if broken
	defer cancel()
	key := newKey("witherr")
	within := func(ctx context.Context, key string, limit int, wait time.Duration) error {
		return acquireCalls(withinLimiter{l, wait}, ctx)["Acquire"](key, limit)
	}
	for _, bad := range []struct {
		key   string
		limit int
	}{{"", 1}, {key, 0}} {
		want := acquireCalls(l, ctx)["Acquire"](bad.key, bad.limit)
		if got := within(ctx, bad.key, bad.limit, patience); got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("AcquireWithin(%q, %d) = %v; want Acquire's %v", bad.key, bad.limit, got, want)
		}
	}
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if err := within(done, key, 1, patience); !errors.Is(err, context.Canceled) {
		t.Errorf("AcquireWithin with a done ctx = %v; want context.Canceled", err)
	}

	h := mustTry(t, l, ctx, key, 1)
	waiter := acquireAsync(l, ctx, key, 1)
	loadIs(t, l, key, 1, 1)
	if err := within(ctx, key, 1, patience); !errors.Is(err, slots.ErrQueueFull) || errors.Is(err, slots.ErrWaitTimeout) {
		t.Errorf("AcquireWithin beyond the cap = %v; want ErrQueueFull, not ErrWaitTimeout", err)
	}
	for _, wait := range []time.Duration{0, -time.Second} {
		if err := within(ctx, key, 2, wait); !errors.Is(err, slots.ErrFull) || errors.Is(err, slots.ErrWaitTimeout) {
			t.Errorf("AcquireWithin(wait %v) of a key with a waiter = %v; want TryAcquire's ErrFull", wait, err)
		}
	}
	loadIs(t, l, key, 1, 1)
	h.rel()
	recvSlot(t, waiter, "waiter").rel()
	inUseIs(t, l, key, 0)
	closeAll(t, ls)
	if err := within(ctx, key, 1, patience); !errors.Is(err, slots.ErrClosed) {
		t.Errorf("AcquireWithin on a closed Limiter = %v; want ErrClosed", err)
	}
}

// withinLimiter is a Limiter whose Acquire is slots.AcquireWithin of l
// with wait, so that acquireCalls can call it.
type withinLimiter struct {
	slots.Limiter
	wait time.Duration
}

func (w withinLimiter) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	return slots.AcquireWithin(ctx, w.Limiter, key, limit, w.wait)
}

// testAcquireWithinRacingARelease frees a key's slot just as a waiter's
// wait runs out, round after round: whichever wins, the waiter returns a
// slot or ErrWaitTimeout, and no slot is lost. How often each side won is
// logged, not asserted; slots.AcquireWithin's own tests make each side
// happen by construction.
func testAcquireWithinRacingARelease(t *testing.T, open OpenWithOptions) {
	const rounds = 10
	ls := open(t, 2, Options{})
	key := newKey("withinrace")
	won := map[bool]int{}
	for i := range rounds {
		h := mustTry(t, ls[0], t.Context(), key, 1)
		ch := make(chan result, 1)
		start := time.Now()
		go func() {
			sctx, rel, err := slots.AcquireWithin(t.Context(), ls[1], key, 1, shortWait)
			ch <- result{sctx, rel, err}
		}()
		inLineOrDone(t, ls[0], key, ch)
		time.AfterFunc(shortWait-time.Since(start), h.rel) // about when the wait runs out
		r := recv(t, ch, fmt.Sprintf("round %d: AcquireWithin", i))
		switch {
		case r.err == nil:
			r.rel()
		case !errors.Is(r.err, slots.ErrWaitTimeout):
			t.Fatalf("round %d: AcquireWithin = %v; want a slot or ErrWaitTimeout", i, r.err)
		}
		won[r.err == nil]++
		loadIs(t, ls[0], key, 0, 0) // no slot lost, and the waiter gone from the line
		mustTry(t, ls[0], t.Context(), key, 1).rel()
	}
	t.Logf("of %d rounds, the slot came in time in %d", rounds, won[true])
}

// inLineOrDone waits until Load shows key held once with one waiter, or
// until that waiter has sent its result on ch: its place in line lasts only
// its short wait, which a loaded machine may spend before a Load sees it.
func inLineOrDone(t *testing.T, l slots.Limiter, key string, ch chan result) {
	t.Helper()
	want := slots.Load{Key: key, InUse: 1, Waiting: 1}
	eventually(t, func() string {
		if len(ch) > 0 {
			return ""
		}
		loads, err := l.Load(context.Background(), key)
		if err != nil {
			return fmt.Sprintf("Load(%q): %v", key, err)
		}
		if len(loads) == 1 && loads[0] == want {
			return ""
		}
		return fmt.Sprintf("Load(%q) = %+v; want [%+v], or the waiter to have returned", key, loads, want)
	})
}
