package redisslot_test

import (
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// Options.Fallback, on a Redis Cluster client: "only the keys of a master
// out of reach are served from the share". Another master's answer tells
// nothing of that one: its keys are still served from the share, within
// it, until it answers. Here, with master 0 killed, a TryAcquire of one
// of its keys begins the state and takes one of the share's two slots; a
// TryAcquire of a key of master 1 is answered by Redis; a second
// TryAcquire of the killed master's key must then take the share's
// second slot, not be refused, and an Acquire waiting in the share's line
// the slot released next.
func TestFallbackShareOfAMasterOutOfReachIsServedAfterAnotherMasterAnswers(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := partialCluster(t, ctx)
	const killed, healthy = 0, 1
	c := clusterClientOf(t, servers, time.Second) // 1s timeouts, one retry
	loadScripts(t, ctx, c)
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: 3 * time.Second, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 2 }})
	t.Cleanup(func() { _ = a.Close() })
	far := keyOnNode(t, ctx, servers, a, killed)
	near := keyOnNode(t, ctx, servers, a, healthy)
	// Killed, not stopped: its calls are refused, never sent, and leave no
	// free to send there, whose failure would grant again to every key.
	if err := servers[killed].Stop(); err != nil {
		t.Fatal(err)
	}

	_, relFirst, err := a.TryAcquire(ctx, far, 4)
	if err != nil {
		t.Fatalf("a.TryAcquire(%q) of a key of the killed master = %v; want a slot of the share", far, err)
	}
	if !a.Stats().Degraded {
		t.Fatal("the fallback state is off after a slot of the share; want it on")
	}
	// No round from now on: one would fail at master 0 and grant again to
	// every key, whatever tells the keys of a master out of reach apart.
	t.Cleanup(redisslot.HoldRounds(a))            // resumed before a's Close
	_, relNear, err := a.TryAcquire(ctx, near, 4) // master 1 answers
	if err != nil {
		t.Fatalf("a.TryAcquire(%q) of a key of the master that answers = %v; want a slot from Redis", near, err)
	}
	defer relNear()
	_, relSecond, err := a.TryAcquire(ctx, far, 4)
	if err != nil {
		t.Fatalf("a.TryAcquire(%q) of the killed master's key, after master 1 answered = %v; want the share's second slot: master 0 is still out of reach", far, err)
	}
	defer relSecond()

	// The share is full: an Acquire of the key waits in its line, and takes
	// the slot released.
	waited := waitingAcquire(t, ctx, a, far, 4)
	relFirst()
	if err := recv(t, waited, waitAtOnce, "the Acquire waiting in the share's line returns"); err != nil {
		t.Fatalf("a.Acquire(%q) waiting in the share's line when one of its slots was released = %v; want that slot", far, err)
	}
}
