package redisslot_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// On a Redis Cluster, an answer to a call sent before a master was found
// out of reach (a call failed, then a check of it) tells nothing of that
// master now: it may have answered before it stopped, its reply coming
// after. It must not bring the master back: its keys would go to Redis,
// not to the share, while it still does not answer. Here a try of a full
// key of the master is answered, and its answer held in a hook, while the
// master stops and a try of another of its keys fails and begins the
// fallback state; the answer then goes on.
func TestAnswerToACallSentBeforeAMasterWasFoundOutOfReachDoesNotBringItBack(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithin(t, waitLong)
	servers := partialCluster(t, ctx)
	const stopped = 0
	ca := clusterClientOf(t, servers, time.Second)
	cb := redistest.ClusterClient(t, servers)
	loadScripts(t, ctx, ca, cb)
	var fullKey atomic.Value // the slot set of the full key
	fullKey.Store("")
	hook, answered, let := holdFirstAnswer(t, func() string { return fullKey.Load().(string) })
	ca.AddHook(hook)
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: 30 * time.Second, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = a.Close() })
	t.Cleanup(let) // before a's Close, which waits for the held call
	b := redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: 30 * time.Second})
	t.Cleanup(func() { _ = b.Close() })

	keys := keysOnNode(t, ctx, servers, a, stopped, 2)
	full, other := keys[0], keys[1]
	_, relB := mustTry(t, b, ctx, full, 1) // a's try of it is refused
	defer relB()
	fullKey.Store(redisslot.SlotKey(a, full))

	tried := make(chan error, 1)
	go func() {
		_, rel, err := a.TryAcquire(ctx, full, 1)
		if rel != nil {
			rel()
		}
		tried <- err
	}()
	recv(t, answered, waitLong, "the try of the full key answered")
	defer stopUntilCleanup(t, servers[stopped])()
	_, rel, err := a.TryAcquire(ctx, other, 1) // fails, its master is checked: the share serves it
	if err != nil {
		t.Fatalf("TryAcquire(%q) with its master stopped = %v; want a slot of the share", other, err)
	}
	rel() // never offered to Redis: nothing left to send
	if !redisslot.OutOfReach(a, other) {
		t.Fatalf("the master of %q counts in reach after a call and a check of it failed; want out of reach", other)
	}
	let()
	if err := recv(t, tried, waitLong, "the held try returns"); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("the held try of the full key = %v; want ErrFull", err)
	}
	quietFor(t, 20, 50*time.Millisecond, func() string {
		if !redisslot.OutOfReach(a, other) {
			return fmt.Sprintf("the stopped master of %q counts in reach again after an answer to a call sent before it was found out of reach; want it out of reach", other)
		}
		return ""
	})
}
