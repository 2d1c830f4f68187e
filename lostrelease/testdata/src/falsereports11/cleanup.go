package falsereports11

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// assertHeld fails the test if *rel is nil; it only reads through rel.
func assertHeld(t testing.TB, rel *func()) {
	t.Helper()
	if *rel == nil {
		t.Fatal("no release")
	}
}

// Not reported: takeCheckedSlot registers its release with t.Cleanup by a
// statement of its own body before its one return, a bare return of rel;
// it then passes rel's address to a helper that only reads through it.
// The test frees the slot when it ends, so a caller may drop it.
func takeCheckedSlot(t *testing.T, l slots.Limiter, key string) (rel func()) {
	t.Helper()
	_, rel, err := l.TryAcquire(context.Background(), key, 1)
	if err != nil {
		t.Fatalf("TryAcquire(%q) = %v", key, err)
	}
	t.Cleanup(rel)
	assertHeld(t, &rel)
	return
}

func testFullKey(t *testing.T, l slots.Limiter) {
	takeCheckedSlot(t, l, "user:a")
	if _, _, err := l.TryAcquire(context.Background(), "user:a", 1); err == nil {
		t.Fatal("TryAcquire of a full key succeeded")
	}
}
