package redisslot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// On a Redis Cluster whose resharding moves the hash slot of moving to a
// new node that stops (SIGSTOP), the source master answers every call but
// those of moving, which it sends on by ASK to the stopped target, where
// they time out. Holders of keys of the source (outside moving's hash
// slot) and of the other master keep their slots while a gateway's
// requests go on, each taking a slot of other (on the source) and one of
// moving, as in TestHolderOnAMasterThatAnswersKeepsItsSlotWhileRequestsSpanItAndAStoppedOne.
// The package documentation says: "a master that does not answer fails
// only the calls of its keys, and the holders of other masters' keys keep
// their leases"; Options.Lease, that a live holder keeps its slot while
// Redis confirms each background call of its Limiter within Lease/4. Both
// masters answer every renewal at once.
//
// A failed acquire of moving marks the source as failed (nodeReach.note
// names the master of the key's hash slot, the source); the next answered
// acquire of other has it back, which makes the lease clock forget
// (nodeReach.note -> back -> renewer.roundNow -> leaseClock.forget). The
// rounds, which send the free of each failed acquire of moving, wait for
// the stopped target; their renewals, built before the next forget,
// confirm nothing (leaseClock.renewed).
func TestHoldersBesideAMoveToAStoppedTargetKeepTheirSlotsUnderRequests(t *testing.T) {
	t.Parallel()                   // it mostly waits on servers of its own
	const lease = 12 * time.Second // rounds every 4s, the margin 600ms: a round that waits on a timeout (1s) is a quarter of the interval
	// The parent of the slots outlives the setup and the window.
	ctx := ctxWithin(t, waitLong+2*lease)
	servers := redistest.StartCluster(t, 2)
	const source, other = 0, 1
	target := addClusterNode(t, ctx, servers)
	c := clusterClientOf(t, servers, time.Second) // as the package documentation advises
	loadScripts(t, ctx, c)
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = a.Close() })

	keys := keysOnNode(t, ctx, servers, a, source, 8)
	src := servers[source].Client(t)
	moving := keys[0]
	slot := keySlot(t, ctx, src, redisslot.SlotKey(a, moving))
	var onSource []string // keys of the source outside moving's hash slot
	for _, k := range keys[1:] {
		if keySlot(t, ctx, src, redisslot.SlotKey(a, k)) != slot {
			onSource = append(onSource, k)
		}
	}
	if len(onSource) < 2 {
		t.Fatalf("keys of the source outside hash slot %d: %q; want 2", slot, onSource)
	}
	heldSrc, requested := onSource[0], onSource[1]
	heldOther := keyOnNode(t, ctx, servers, a, other)
	hSrc, relSrc := mustTry(t, a, ctx, heldSrc, 1)
	defer relSrc()
	hOther, relOther := mustTry(t, a, ctx, heldOther, 1)
	defer relOther()

	openMove(t, ctx, src, target.Client(t), slot)
	t.Cleanup(func() { // the resharding given up: the slot stays on its source
		_ = target.Client(t).Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
		_ = src.Do(context.Background(), "cluster", "setslot", slot, "stable").Err()
	})
	resume := stopUntilCleanup(t, target)
	defer resume()
	stoppedAt := time.Now()

	// Requests, 8 at once: each takes a slot of requested (on the source),
	// then one of moving, and releases what it got.
	var requests, failed atomic.Int64
	unblock := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-unblock:
					return
				default:
				}
				rctx, cancel := context.WithTimeout(ctx, lease)
				_, relReq, err := a.TryAcquire(rctx, requested, 100)
				if err != nil {
					cancel()
					t.Errorf("TryAcquire(%q) on the source, outside the moving hash slot: %v", requested, err)
					return
				}
				if _, relMoving, err := a.TryAcquire(rctx, moving, 100); err == nil {
					relMoving()
				} else {
					failed.Add(1)
				}
				relReq()
				cancel()
				requests.Add(1)
			}
		})
	}
	finished := make(chan struct{})
	defer func() {
		close(unblock)
		go func() { wg.Wait(); close(finished) }()
		recv(t, finished, 2*lease, "the requests returned")
	}()

	window := time.NewTimer(2 * lease) // a span to watch, not a condition to wait for
	defer window.Stop()
	for _, h := range []struct {
		key string
		ctx context.Context
	}{{heldSrc, hSrc}, {heldOther, hOther}} {
		select {
		case <-window.C:
			return
		case <-h.ctx.Done():
			t.Errorf("the slot of %q, on a master that answers, ended %v after the move's target stopped (cause %v); want it kept. %d requests ran meanwhile, %d of them failed at moving %q",
				h.key, time.Since(stoppedAt).Round(time.Millisecond), context.Cause(h.ctx), requests.Load(), failed.Load(), moving)
			if !errors.Is(context.Cause(h.ctx), redisslot.ErrLeaseLost) {
				t.Errorf("cause %v; want ErrLeaseLost", context.Cause(h.ctx))
			}
		}
	}
}
