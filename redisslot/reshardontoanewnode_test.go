package redisslot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// On a Redis Cluster that a resharding grows by a new master, a slot whose
// slot set the move has carried to the new node keeps its lease while
// every node answers. The package documentation promises: "A call answered
// NOSCRIPT (a script cache emptied, or a node new to the cluster) is sent
// again as EVAL, to the node that runs it, which then keeps the script.
// While a resharding moves a key's hash slot, Redis may answer its calls
// TRYAGAIN: [...] its leases are kept, or lost, as in a stall."
//
// Here nothing stalls and nothing answers TRYAGAIN: the renewal names one
// slot set, which the source answers ASK and the importing node, whose
// script cache has never held the scripts, answers NOSCRIPT. The script
// must reach that node for the renewal to go through; the test fails if the
// holder's lease is lost within three Leases of the move beginning. (A
// second key held keeps the round a pipeline of two calls, as on any busy
// gateway: a round of one call falls back to EVAL, which follows the ASK.)
func TestHolderOfAKeyMovedToANewNodeKeepsItsLeaseThroughTheMove(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	fresh := addClusterNode(t, ctx, servers)
	const source = 0
	const lease = time.Second

	c := clusterClientOf(t, servers, time.Second)
	errs := &errLog{}
	l := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: errs.add})
	t.Cleanup(func() { _ = l.Close() })

	moving := keyOnNode(t, ctx, servers, l, source)
	other := keyOnNode(t, ctx, servers, l, 1) // a round sends two calls: a pipeline
	held, relMoving := mustTry(t, l, ctx, moving, 2)
	defer relMoving()
	_, relOther := mustTry(t, l, ctx, other, 2)
	defer relOther()

	dst := fresh.Client(t)
	rkey := redisslot.SlotKey(l, moving)
	moveSlotSet(t, ctx, servers, source, fresh, rkey)
	moved := time.Now()

	// Every node answers: the new one holds the member, with its lease.
	asking := dst.Pipeline()
	asking.Do(ctx, "asking")
	card := asking.ZCard(ctx, rkey)
	if _, err := asking.Exec(ctx); err != nil || card.Val() != 1 {
		t.Fatalf("ASKING, ZCARD %s on the new node = %d, %v; want 1 member", rkey, card.Val(), err)
	}

	const within = 3 * lease
	deadline := time.After(within)
	for {
		select {
		case <-held.Done():
			var noScript []string
			for _, err := range errs.all() {
				if strings.Contains(err.Error(), "NOSCRIPT") {
					noScript = append(noScript, err.Error())
				}
			}
			t.Fatalf("slot of %q lost %v after its slot set moved to a node that answers (cause %v); renewals answered NOSCRIPT: %q",
				moving, time.Since(moved).Round(time.Millisecond), context.Cause(held), noScript)
		case <-deadline:
			if err := context.Cause(held); err != nil {
				t.Fatalf("slot of %q ended: %v", moving, err)
			}
			return
		}
	}
}
