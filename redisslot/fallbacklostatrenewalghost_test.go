package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// A fallback slot stays unsure once adopted: a copy of its adoption sent
// in an earlier round, that timed out, may still run (see
// TestFallbackSlotLostAtAdoptionLeavesNoGhost for the promise). A slot
// whose member a renewal finds missing is ended with no free, which suits a
// plain slot (no call of it can add it again) but not an adopted fallback
// slot: it gets no tombstone. Here a's first adoption of its fallback slot
// of k is held on its way; the next round's writes the slot; k's slot set
// then vanishes (as in a restart without persistence) and a renewal ends
// the holder with ErrLeaseLost. The first copy then reaches Redis and
// writes the member with a full lease: a slot nobody holds, that counts
// against k's limit until its lease ends.
func TestAdoptedFallbackSlotLostAtRenewalLeavesNoGhost(t *testing.T) {
	p, direct, a, h, lostHeard := ghostRig(t)
	ctx := ctxWithTimeout(t)
	rkey := redisslot.SlotKey(a, "k")

	p.Freeze()
	sctx, rel, err := a.TryAcquire(ctx, "k", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire with Redis cut off = %v; want a slot from the share", err)
	}
	defer rel()
	h.arm()
	p.Thaw()
	bound := 3*redisslot.RenewEvery(a) + 2*time.Second
	held := recv(t, h.held, bound, "a's first adoption of its fallback slot is written")
	t.Cleanup(held.discard)
	eventuallyWithin(t, bound, "a later adoption writes the fallback slot", func() bool { return len(members(t, direct, rkey)) == 1 })
	recv(t, held.closed, waitAtOnce, "a's client closes the connection of the adoption that timed out")
	if err := direct.Del(ctx, rkey).Err(); err != nil { // as a restart without persistence would
		t.Fatal(err)
	}
	recv(t, sctx.Done(), bound, "the holder hears its slot is lost at a renewal")
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Fatalf("the adopted fallback slot ended with %v; want ErrLeaseLost", got)
	}
	// The loss is reported after its free is noted: then the free is confirmed.
	recv(t, lostHeard, bound, "a hears of the lost lease")
	eventually(t, "a's pending frees are confirmed", func() bool {
		return a.Stats().PendingFrees == 0 && redisslot.FreesInFlight(a) == 0
	})

	if err := held.deliver(); err != nil { // the first copy reaches Redis now
		t.Fatal(err)
	}
	if got := members(t, direct, rkey); len(got) > 0 {
		_, _, err := a.TryAcquire(ctx, "k", 1)
		t.Fatalf("after a's adopted fallback slot of k was lost at a renewal, an earlier copy of that adoption wrote %v into k's slot set: a slot nobody holds, until its lease ends; TryAcquire(k, limit 1) with no holder = %v; want no member and a slot", got, err)
	}
}
