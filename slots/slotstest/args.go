package slotstest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ctxguard/release/slots"
)

// testErrorsNameTheKey checks that a refusal wraps ErrFull and names the
// key, so that a caller holding several kinds of slot can tell which one
// was full.
func testErrorsNameTheKey(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{})
	key := newKey("named")
	h := mustTry(t, ls[0], t.Context(), key, 1)
	_, _, err := ls[0].TryAcquire(t.Context(), key, 1)
	if !errors.Is(err, slots.ErrFull) {
		t.Fatalf("TryAcquire of a full key = %v; want ErrFull", err)
	}
	if errors.Is(err, slots.ErrQueueFull) {
		t.Errorf("TryAcquire of a full key = %v; want it not to match ErrQueueFull", err)
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("TryAcquire of a full key = %q; want it to name key %q", err, key)
	}
	h.rel()
	inUseIs(t, ls[0], key, 0)
}

// testBadArguments checks that an empty key or a limit below 1 is an
// error saying so, not a slot, and that a nil ctx panics.
func testBadArguments(t *testing.T, open OpenWithOptions) {
	ls := open(t, 1, Options{})
	l := ls[0]
	ctx, cancel := context.WithTimeout(t.Context(), patience) // ends a wait only if broken
	defer cancel()
	key := newKey("bad")
	for name, call := range acquireCalls(l, ctx) {
		if err := call("", 1); err == nil || errors.Is(err, slots.ErrFull) || !strings.Contains(err.Error(), "key") {
			t.Errorf("%s(\"\", 1) = %v; want an error about the empty key", name, err)
		}
		for _, limit := range []int{0, -1} {
			err := call(key, limit)
			if err == nil || errors.Is(err, slots.ErrFull) || !strings.Contains(err.Error(), "limit") || !strings.Contains(err.Error(), key) {
				t.Errorf("%s(%q, %d) = %v; want an error about the limit that names the key", name, key, limit, err)
			}
		}
	}
	if _, err := l.InUse(ctx, ""); err == nil {
		t.Errorf("InUse(\"\") = nil error; want an error about the empty key")
	}
	if _, err := l.Load(ctx, key, ""); err == nil {
		t.Errorf("Load(key, \"\") = nil error; want an error about the empty key")
	}
	var nilCtx context.Context
	panics := map[string]func(){
		"TryAcquire": func() { l.TryAcquire(nilCtx, key, 1) },
		"Acquire":    func() { l.Acquire(nilCtx, key, 1) },
		"InUse":      func() { l.InUse(nilCtx, key) },
		"Load":       func() { l.Load(nilCtx, key) },
	}
	for name, f := range panics {
		if !panicked(f) {
			t.Errorf("%s(nil ctx) did not panic; want a panic", name)
		}
	}
	inUseIs(t, l, key, 0)
}

// panicked reports whether f panicked.
func panicked(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}
