package falsereports9

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// Not reported: takeUserSlot registers its release with t.Cleanup by a
// statement of its own body before its one return, a bare return of the
// named result rel, which nothing assigns after: the test frees the slot
// when it ends, so a caller may drop it. (A return that names rel, `return
// ctx, rel`, is read so today; the bare return is not.)
func takeUserSlot(t *testing.T, l slots.Limiter, user string) (ctx context.Context, rel func()) {
	t.Helper()
	ctx, rel, err := l.Acquire(context.Background(), "user:"+user, 1)
	if err != nil {
		t.Fatalf("Acquire(%q) = %v", user, err)
	}
	t.Cleanup(rel)
	return
}

// Not reported: the same with one result, registered through a literal.
func takeAccountSlot(t *testing.T, l slots.Limiter, acct string) (rel func()) {
	t.Helper()
	_, rel, err := l.TryAcquire(context.Background(), "acct:"+acct, 4)
	if err != nil {
		t.Fatalf("TryAcquire(%q) = %v", acct, err)
	}
	t.Cleanup(func() { rel() })
	return
}

func testFullAccount(t *testing.T, l slots.Limiter) {
	ctx, _ := takeUserSlot(t, l, "u")
	for range 4 {
		takeAccountSlot(t, l, "a")
	}
	if _, _, err := l.TryAcquire(ctx, "acct:a", 4); err == nil {
		t.Fatal("TryAcquire of a full account succeeded")
	}
}
