package slotstest

import (
	"context"
	"errors"
	"testing"
)

type ctxKey struct{}

// testSlotContextValues checks that the slot's context carries the
// caller's values, for TryAcquire and for an Acquire that waited.
func testSlotContextValues(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("values")
	ctx := context.WithValue(t.Context(), ctxKey{}, "v")

	a := mustTry(t, ls[0], ctx, key, 1)
	if got := a.ctx.Value(ctxKey{}); got != "v" {
		t.Errorf("TryAcquire's slot ctx.Value = %v; want %q", got, "v")
	}
	ch := acquireAsync(ls[1], ctx, key, 1)
	loadIs(t, ls[0], key, 1, 1)
	a.rel()
	b := recvSlot(t, ch, "waiter")
	if got := b.ctx.Value(ctxKey{}); got != "v" {
		t.Errorf("Acquire's slot ctx.Value = %v; want %q", got, "v")
	}
	b.rel()
	inUseIs(t, ls[0], key, 0)
}

// testSlotContextEndsOnRelease checks that the slot's context is done,
// with cause context.Canceled, when release returns.
func testSlotContextEndsOnRelease(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{})
	key := newKey("ctxrel")
	a := mustTry(t, ls[0], t.Context(), key, 1)
	if err := a.ctx.Err(); err != nil {
		t.Fatalf("slot context done before release: %v", err)
	}
	a.rel()
	wantCause(t, a.ctx, context.Canceled, "after release")
	if !errors.Is(a.ctx.Err(), context.Canceled) {
		t.Errorf("slot ctx.Err() = %v; want context.Canceled", a.ctx.Err())
	}
	inUseIs(t, ls[0], key, 0)
}

// testSlotContextEndsWithCtxCause checks that the slot's context ends
// when the caller's does, with the caller's cause.
func testSlotContextEndsWithCtxCause(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{})
	key := newKey("ctxcause")
	cause := errors.New("client went away")
	ctx, cancel := context.WithCancelCause(t.Context())
	a := mustTry(t, ls[0], ctx, key, 1)
	cancel(cause)
	done(t, a.ctx, "after the caller's ctx ended")
	wantCause(t, a.ctx, cause, "after the caller's ctx ended")
	inUseIs(t, ls[0], key, 0)
	a.rel()
}

// testHangUpFreesSlot checks that a slot frees itself when its caller's
// ctx ends, and that its release, called later, frees nothing more.
func testHangUpFreesSlot(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("hangup")
	ctx, cancel := context.WithCancel(t.Context())
	a := mustTry(t, ls[0], ctx, key, 1)
	cancel()
	inUseIs(t, ls[1], key, 0)
	b := mustTry(t, ls[1], t.Context(), key, 1)
	a.rel() // late: must not free b's slot
	inUseIs(t, ls[0], key, 1)
	wantFull(t, ls[0], t.Context(), key, 1, "after the hung-up slot's late release")
	b.rel()
	inUseIs(t, ls[0], key, 0)
}

// testHangUpHandsSlotToWaiter checks that a slot freed by its caller's
// hang-up goes to the key's waiter.
func testHangUpHandsSlotToWaiter(t *testing.T, open OpenWithOptions) {
	ls := open(t, 2, Options{})
	key := newKey("hangupwait")
	ctx, cancel := context.WithCancel(t.Context())
	a := mustTry(t, ls[0], ctx, key, 1)
	ch := acquireAsync(ls[1], t.Context(), key, 1)
	loadIs(t, ls[0], key, 1, 1)
	cancel()
	b := recvSlot(t, ch, "waiter behind a hung-up holder")
	a.rel()
	inUseIs(t, ls[0], key, 1)
	b.rel()
	inUseIs(t, ls[0], key, 0)
}
