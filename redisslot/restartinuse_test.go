package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// After a Redis restart that forgot every slot, a Limiter whose first call
// is InUse finds Redis's scripts gone, as an acquire, a free or a Load
// would, and looks for its lost slots at once (README, guarantee 5): its
// holder of k does not live on beside the holder another Limiter then
// takes (limit 1) until its next round, Lease/3 later. (InUse ran its
// script with Script.Run, which hides the NOSCRIPT.)
func TestRestartEndsOldHoldersWhenTheLimitersFirstCallIsInUse(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisslot.Options{Lease: longLease} // the next round is 20s away
	a := newFixture(t, srv, opts)
	b := newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	old, rel := mustTry(t, a.l, ctx, "k", 1)
	defer rel()

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: the slot of k is forgotten
		t.Fatal(err)
	}
	// a reaches Redis again: InUse is answered.
	n, err := a.l.InUse(ctx, "k")
	if err != nil {
		t.Fatalf("InUse, first call of a after the restart: %v; want it answered", err)
	}
	answered := time.Now()
	// b takes the slot of k, which the empty Redis says is free.
	_, relNew := mustTry(t, b.l, ctx, "k", 1)
	defer relNew()

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k that the restart lost still held %v after a's InUse was answered (it said %d holders), while b holds k (limit 1): two holders; a's next round is %v after its acquire",
			time.Since(answered).Round(time.Millisecond), n, redisslot.RenewEvery(a.l))
	}
}
