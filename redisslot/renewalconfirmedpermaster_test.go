package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ctxguard/release/redisslot"
)

// A renewal that its master answered is confirmed then, not when the
// round's call to another master, which does not answer, ends: until it is
// confirmed, a forget (the canary's first confirmation on a cluster, a
// restart looked for) voids it, and the next round's would come too late
// for a holder whose master answers every call (as
// TestHolderOnAMasterThatAnswersKeepsItsSlotWhileAnotherMasterStops found
// once in about thirty runs). The client has no timeout of its own: the
// call to the stopped master ends only at the round's cut, Lease/3 = 5s
// after it was sent.
func TestRenewalAnsweredByItsMasterIsConfirmedBeforeAnotherMastersCallEnds(t *testing.T) {
	t.Parallel()                   // it mostly waits on servers of its own: it runs beside other such tests
	const lease = 15 * time.Second // rounds every 5s
	ctx := ctxWithin(t, waitLong+2*lease)
	servers := partialCluster(t, ctx)
	const stopped, healthy = 0, 1
	c := clusterClientOf(t, servers, -1)
	var nearKey, farKey atomic.Value // slot sets
	nearKey.Store("")
	farKey.Store("")
	var farInFlight, farFailed atomic.Int64 // renewal calls to the stopped master
	c.OnNewNode(func(node *redis.Client) {
		node.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
			var far []redis.Cmder
			for _, cmd := range cmds {
				if args := cmd.Args(); len(args) > 3 && args[3] == farKey.Load() {
					far = append(far, cmd)
				}
			}
			if len(far) == 0 {
				return next()
			}
			farInFlight.Add(1)
			defer farInFlight.Add(-1)
			err := next()
			for _, cmd := range far {
				if cmd.Err() != nil {
					farFailed.Add(1)
				}
			}
			return err
		}})
	})
	loadScripts(t, ctx, c)
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease})
	t.Cleanup(func() { _ = a.Close() })
	warmUp(t, a) // the canary's first confirmation, which forgets, is behind

	far := keyOnNode(t, ctx, servers, a, stopped)
	near := keyOnNode(t, ctx, servers, a, healthy)
	nearKey.Store(redisslot.SlotKey(a, near))
	farKey.Store(redisslot.SlotKey(a, far))
	holdAbandoned(t, a, ctx, far, 1) // a's rounds call the master to be stopped
	_, rel := mustTry(t, a, ctx, near, 1)
	defer rel()

	at := time.Now()
	resume := stopUntilCleanup(t, servers[stopped])
	defer resume()

	// The next round (within Lease/3) renews both slots; the near one's
	// renewal must be confirmed while that round's call to the stopped
	// master is still in flight.
	deadline := time.Now().Add(waitLong) // a hang guard: the far call ends at the round's cut
	for !redisslot.LeaseConfirmedAt(a, near).After(at) {
		if farFailed.Load() > 0 {
			t.Fatalf("a renewal call to the stopped master ended (cut at Lease/3) before the renewal of %q, whose master answers, was confirmed; want it confirmed when its master answered", near)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: the renewal of %q, whose master answers, not confirmed", waitLong, near)
		}
		time.Sleep(pollInterval)
	}
	if farInFlight.Load() == 0 {
		t.Fatalf("the renewal of %q was confirmed with no call to the stopped master in flight (%d failed); want it confirmed while the round's call to that master waits", near, farFailed.Load())
	}
}
