package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// Redis's script cache is shared by every instance. After a restart that
// forgot every slot, the first instance to call finds the scripts gone
// (NOSCRIPT) and loads them again; every other instance's next call is
// answered by the reloaded scripts and sees no NOSCRIPT. Each Limiter keeps
// a pub/sub channel subscribed from its first slot on, which the restart
// breaks: its reconnect makes the Limiter look for its lost slots. Here b,
// first after the restart, takes k (limit 1) in the empty Redis; a's
// holder of k from before the restart must end within restartBound, not
// live on beside b's until a's next round, Lease/3 later, even though a,
// younger than Lease/3, has never run a round.
func TestRestartEndsOldHoldersOfALimiterWhoseFirstCallFindsTheScriptsReloaded(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisslot.Options{Lease: longLease} // the next round is 20s away
	a := newFixture(t, srv, opts)
	b := newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	old, rel := mustTry(t, a.l, ctx, "k", 1)
	defer rel()
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a.l) }) // from its first slot on

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: the slot of k is forgotten
		t.Fatal(err)
	}
	// b calls first: it finds the scripts gone, loads them, and takes k.
	_, relNew := mustTry(t, b.l, ctx, "k", 1)
	defer relNew()
	// a reaches Redis again: its next call is answered.
	_, relThird, err := a.l.TryAcquire(ctx, "third", 1)
	if err != nil {
		t.Fatalf("first call of a after the restart: %v; want it answered", err)
	}
	defer relThird()
	answered := time.Now()

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k that the restart lost still held %v after a's call was answered, while b holds k (limit 1): two holders; a's next round is %v after its acquire",
			time.Since(answered).Round(time.Millisecond), redisslot.RenewEvery(a.l))
	}
}
