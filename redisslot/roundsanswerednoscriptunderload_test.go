package redisslot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Limiter whose renewals of one key are answered NOSCRIPT, while it keeps
// taking slots of other keys, runs its renewal rounds every Lease/3, not
// back to back. The package documentation promises "One
// goroutine renews all of a Limiter's slots every Lease/3, in batches";
// asks.go, of the round a NOSCRIPT round asks for the slots held since it
// was built: "the asks do not chain".
//
// The NOSCRIPT comes from a resharding onto a new node, whose script cache
// never held the scripts (see TestHolderOfAKeyMovedToANewNodeKeepsItsLeaseThroughTheMove):
// the held key's slot set is on the new node, and its renewals are answered
// ASK, then NOSCRIPT, every node answering. Meanwhile one goroutine takes
// and releases slots of a key on another master, as a gateway's requests
// do, two held at any time. Over two renewal periods the test allows the
// two rounds due, one more asked by each, and three to spare.
func TestRoundsAnsweredNoScriptDoNotRunBackToBackUnderLoad(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	fresh := addClusterNode(t, ctx, servers)
	const source = 0
	const lease = 3 * time.Second
	const renewEvery = lease / 3

	c := clusterClientOf(t, servers, time.Second)
	var rounds, noScript atomic.Int64
	c.AddHook(scriptHook{any: true, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		for _, cmd := range cmds {
			if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
				noScript.Add(1)
			}
		}
		return err
	}})
	l := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = l.Close() })
	l.AddHook(redisslot.Hook{RenewalRound: func(redisslot.RenewalEvent) { rounds.Add(1) }})

	moving := keyOnNode(t, ctx, servers, l, source)
	other := keyOnNode(t, ctx, servers, l, 1) // a round sends two calls: a pipeline
	busy := keyOnNode(t, ctx, servers, l, 2)
	held, relMoving := mustTry(t, l, ctx, moving, 2)
	defer relMoving()
	_, relOther := mustTry(t, l, ctx, other, 2)
	defer relOther()

	moveSlotSet(t, ctx, servers, source, fresh, redisslot.SlotKey(l, moving))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a gateway's requests on a key of another master, two in flight
		defer wg.Done()
		var inFlight []func()
		defer func() {
			for _, rel := range inFlight {
				rel()
			}
		}()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, rel, err := l.TryAcquire(ctx, busy, 1000); err == nil {
				inFlight = append(inFlight, rel)
			}
			if len(inFlight) > 2 { // the oldest request ends
				inFlight[0]()
				inFlight = inFlight[1:]
			}
		}
	}()
	defer func() { close(stop); waitAll(t, &wg, 10*time.Second, "the busy key's caller") }()

	// The first call answered NOSCRIPT opens the window.
	eventuallyWithin(t, 2*lease, "a call answered NOSCRIPT", func() bool { return noScript.Load() > 0 })
	start := rounds.Load()
	window := time.After(2 * renewEvery)
	for {
		select {
		case <-window:
			const most = 2*2 + 3
			if n := rounds.Load() - start; n > most {
				t.Fatalf("%d renewal rounds in %v (%d calls answered NOSCRIPT in all); want at most %d (every %v, one asked by each, 3 to spare)",
					n, 2*renewEvery, noScript.Load(), most, renewEvery)
			}
			return
		case <-held.Done():
			t.Logf("the moved key's holder ended: %v", context.Cause(held))
			held = context.Background()
		}
	}
}
