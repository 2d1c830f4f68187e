package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A Redis restarted empty between two calls of a Limiter, none of which
// failed, forgets that Limiter's slots as any restart does. The Limiter's
// next call, the first after the restart, finds Redis's scripts gone: it
// looks for its lost slots at once (README, guarantee 5), so the old
// holder does not live on beside the holder another Limiter was just
// admitted in its place (limit 1) until the next round, a third of the
// Lease later.
func TestRestartBetweenCallsEndsOldHoldersWhenTheLimiterReachesRedisAgain(t *testing.T) {
	// a's next call after the restart: an acquire, or the free of another
	// slot it releases, sent at once.
	for _, next := range []string{"acquire", "free"} {
		t.Run(next, func(t *testing.T) { restartBetweenCalls(t, next) })
	}
}

func restartBetweenCalls(t *testing.T, next string) {
	srv := redistest.Start(t)
	opts := redisslot.Options{Lease: longLease} // the next round is 20s away
	a := newFixture(t, srv, opts)
	b := newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	old, rel := mustTry(t, a.l, ctx, "k", 1)
	defer rel()
	_, relOther := mustTry(t, a.l, ctx, "other", 1)
	defer relOther()

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: the slot of k is forgotten
		t.Fatal(err)
	}
	// a reaches Redis again: its next call is answered, with no failure.
	switch next {
	case "acquire":
		_, relThird, err := a.l.TryAcquire(ctx, "third", 1)
		if err != nil {
			t.Fatalf("first call of a after the restart: %v; want it answered (go-redis drops the dead connection before using it)", err)
		}
		defer relThird()
	case "free":
		relOther()
		eventually(t, "the free of other is sent", func() bool { return a.l.Stats().PendingFrees == 0 })
	}
	// b takes the slot of k, which the empty Redis says is free.
	_, relNew := mustTry(t, b.l, ctx, "k", 1)
	defer relNew()
	admitted := time.Now()

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("the slot of k that the restart lost still held by a %v after a's %s was answered and b took k (limit 1): two holders; a's next round is %v after its acquire",
			time.Since(admitted).Round(time.Millisecond), next, redisslot.RenewEvery(a.l))
	}
}
