package falsereports6

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// holdSlot takes a slot for a test and registers its release with
// t.Cleanup; it returns the release too, for a test that wants to free
// the slot early.
func holdSlot(t *testing.T, l slots.Limiter, key string) (rel func()) {
	t.Helper()
	_, rel, err := l.TryAcquire(context.Background(), key, 1)
	if err != nil {
		t.Fatalf("TryAcquire(%q): %v", key, err)
	}
	t.Cleanup(rel)
	return rel
}

// Not reported: holdSlot has already registered the release with
// t.Cleanup, so the caller may drop what it returns: the slot is freed
// when the test ends.
func testFullKey(t *testing.T, l slots.Limiter) {
	holdSlot(t, l, "k")
	if _, _, err := l.TryAcquire(context.Background(), "k", 1); err == nil {
		t.Fatal("TryAcquire of a held key succeeded")
	}
}

// holdRegisteredTwice registers its release before its early return, and
// again after it (a guard's release is safe to call twice).
func holdRegisteredTwice(t *testing.T, l slots.Limiter, early bool) func() {
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rel)
	if early {
		return rel
	}
	t.Cleanup(rel)
	return rel
}

// Not reported: holdRegisteredTwice registers the release on every path.
func testDropsRegisteredTwice(t *testing.T, l slots.Limiter) {
	holdRegisteredTwice(t, l, true)
}

// holdOrNil returns nil when the slot is refused, and the release it has
// registered otherwise.
func holdOrNil(t *testing.T, l slots.Limiter) func() {
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Log(err)
		return nil
	}
	t.Cleanup(rel)
	return rel
}

// Not reported: what holdOrNil returns is nil or registered.
func testDropsOrNil(t *testing.T, l slots.Limiter) {
	holdOrNil(t, l)
}
