package redisslot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster, a release handed to a waiter of the same Limiter
// rides on that waiter's next try. While a resharding holds the key's hash
// slot open, the try is answered TRYAGAIN: the script never ran, and the
// free it carried must still be freed at once, as a free sent on its own
// is (see TestReleaseOfASlotWhoseHashSlotIsBeingMovedIsFreedAtOnce), not
// at the holder's next round, Lease/3 later.
//
// Here a holds k (limit 1) and an Acquire of k on a waits, its first try
// answered and its retry timer far off; the move opens, and a's holder
// releases: the waiter's try, carrying the free, is answered TRYAGAIN,
// which its Acquire returns.
func TestFreeCarriedByATryAnsweredTryAgainIsFreedAtOnce(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	const source, target = 1, 2
	c := clusterClientOf(t, servers, 0)
	loadScripts(t, ctx, c)
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })
	redisslot.SetRetryInterval(a, time.Minute) // no retry while the test runs
	armed := make(chan struct{}, 1)
	redisslot.SetOnArm(a, func(time.Duration) { sendOrDrop(armed, struct{}{}) })

	key := keyOnNode(t, ctx, servers, a, source)
	_, rel := mustTry(t, a, ctx, key, 1)
	served := waitingAcquire(t, ctx, a, key, 1)
	recv(t, armed, waitAtOnce, "the waiter's first try is answered")
	src, dst := servers[source].Client(t), servers[target].Client(t)
	slot := keySlot(t, ctx, src, redisslot.SlotKey(a, key))
	openMove(t, ctx, src, dst, slot)
	t.Cleanup(func() { _ = giveUpMove(ctx, src, dst, slot) })

	released := time.Now()
	rel()
	if err := recv(t, served, waitAtOnce, "the waiter's Acquire returns"); err == nil || !strings.Contains(err.Error(), "TRYAGAIN") {
		t.Fatalf("the waiter's Acquire, its try carrying the free while the move is open = %v; want TRYAGAIN", err)
	}
	// A ZREM of its last member deletes the slot set, and while the hash
	// slot is migrating its source answers ASK to a read of a key it lacks.
	freed := func() bool {
		n, err := src.ZCard(ctx, redisslot.SlotKey(a, key)).Result()
		return err == nil && n == 0 || redis.HasErrorPrefix(err, "ASK ")
	}
	for !freed() && time.Since(released) < waitAtOnce {
		time.Sleep(pollInterval)
	}
	if !freed() {
		t.Fatalf("the slot of %q, released, its free carried by a try answered TRYAGAIN, still in its slot set %v later (pending frees %d, OnError %v); want it freed within %v, not at the next round (every %v)",
			key, time.Since(released).Round(time.Millisecond), a.Stats().PendingFrees, errs.all(), waitAtOnce, redisslot.RenewEvery(a))
	}
}
