package redisslot_test

import (
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A release whose first step (the lease clock lets go of the slot) comes
// before Close, and whose rest comes after Close has returned, still has
// its slot freed by Close: the free is pending from that first step on.
// Were it made pending later in the release, Close would not send it, and
// the slot would stay taken in Redis until its lease ends.
func TestReleaseBegunBeforeCloseIsFreedByClose(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // no renewal round during the test
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rkey := redisslot.SlotKey(f.l, "k")
	if zs := members(t, srv.Client(t), rkey); len(zs) != 1 {
		t.Fatalf("members of k while held: %v; want one", zs)
	}
	if n := redisslot.BeginRelease(f.l, "k"); n != 1 {
		t.Fatalf("BeginRelease let go of %d slots; want 1", n)
	}
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if zs := members(t, srv.Client(t), rkey); len(zs) != 0 {
		t.Errorf("members of k after Close: %v; want none", zs)
	}
	rel() // the rest of the release: nothing more to do
	if zs := members(t, srv.Client(t), rkey); len(zs) != 0 {
		t.Errorf("members of k after the release: %v; want none", zs)
	}
}
