package redisslot_test

import (
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A Limiter whose client reaches a replica (a master demoted under a fixed
// address) is answered READONLY by each script and PONG by each probe.
// Counting READONLY as Redis out of reach must not turn that into a loop:
// the probe's answer runs a round at once, the round's calls are answered
// READONLY again, and the next probe runs another. Its pending free goes to
// Redis at once and then once a round (Lease/3), not once a probe.
func TestLimiterOnAReplicaDoesNotRunARoundAtEveryProbe(t *testing.T) {
	master, replica := redistest.Start(t), redistest.Start(t)
	replica.ReplicaOf(t, master, master.Addr)
	f := newFixture(t, replica, redisslot.Options{Lease: 3 * time.Second}) // rounds 1s apart, probes 100ms
	ctx := ctxWithTimeout(t)
	if _, rel, err := f.l.TryAcquire(ctx, "k", 1); err == nil {
		rel()
		t.Fatal("TryAcquire on a replica got a slot")
	} else {
		t.Logf("TryAcquire on a replica: %v", err)
	}
	f.count.Reset()
	const watch = 2 * time.Second // two rounds
	time.Sleep(watch)             // counting what the Limiter sends meanwhile
	if n := f.count.ByName("evalsha"); n > 4 {
		t.Errorf("the Limiter sent %d script calls in %v to a replica that answers each READONLY; want at most 4 (its pending free at once, then once a round, every %v)",
			n, watch, redisslot.RenewEvery(f.l))
	}
	t.Logf("OnError: %d reports", len(f.errs.all()))
}
