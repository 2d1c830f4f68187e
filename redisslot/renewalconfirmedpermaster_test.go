package redisslot_test

import (
	"context"
	"sync"
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
	var mu sync.Mutex
	var farCalls []*farCall // renewal calls to the stopped master, in the order sent
	c.OnNewNode(func(node *redis.Client) {
		node.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
			far := false
			for _, cmd := range cmds {
				if args := cmd.Args(); len(args) > 3 && args[3] == farKey.Load() {
					far = true
				}
			}
			if !far {
				return next()
			}
			fc := &farCall{sent: time.Now()}
			mu.Lock()
			farCalls = append(farCalls, fc)
			mu.Unlock()
			defer func() {
				mu.Lock()
				fc.ended = true
				mu.Unlock()
			}()
			return next()
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

	// A round sent after the stop renews both slots; the near one's
	// renewal must be confirmed while that round's call to the stopped
	// master is still in flight.
	deadline := time.Now().Add(waitLong) // a hang guard: the far call ends at the round's cut
	for !redisslot.LeaseConfirmedAt(a, near).After(at) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: no renewal of %q, whose master answers, sent after the stop confirmed", waitLong, near)
		}
		time.Sleep(pollInterval)
	}
	mu.Lock()
	defer mu.Unlock()
	set := redisslot.LeaseConfirmedAt(a, near) // the start of the round that confirmed it
	for _, fc := range farCalls {
		if fc.sent.Before(set) {
			continue
		}
		if fc.ended { // the first call to the stopped master sent after set is that round's
			t.Fatalf("the renewal of %q, whose master answers, in a round sent %v after the stop, was confirmed only after that round's call to the stopped master ended (cut at Lease/3); want it confirmed when its master answered", near, set.Sub(at).Round(time.Millisecond))
		}
		return
	}
	t.Fatalf("no renewal call to the stopped master sent with the round that confirmed %q's renewal (%d sent since the warm-up)", near, len(farCalls))
}

// A farCall is a call to a stopped master, seen by a node's hook.
type farCall struct {
	sent  time.Time
	ended bool
}
