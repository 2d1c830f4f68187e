package redisslot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
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
// Here a holds a key (limit 1) and an Acquire of it on a waits, its first
// try answered and its retry timer far off; the move opens, and a's holder
// releases: the waiter's try, carrying the free, is answered TRYAGAIN,
// which its Acquire returns. The waiter's subscription, once confirmed,
// has it try once more: if that try comes after the move opened and before
// the release, it is answered TRYAGAIN with no free to carry, and the
// release, with no waiter left, sends its free on its own. A hook tells
// that apart, and the test stages it again, on another key, up to 3 times.
func TestFreeCarriedByATryAnsweredTryAgainIsFreedAtOnce(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	const source, target = 1, 2
	c := clusterClientOf(t, servers, 0)
	var released atomic.Pointer[string] // the member whose free the try must carry
	var carried atomic.Bool             // a try carrying it was answered TRYAGAIN
	c.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if m := released.Load(); m != nil && redis.HasErrorPrefix(cmds[0].Err(), "TRYAGAIN") && names(cmds[0], *m) {
			carried.Store(true)
		}
		return err
	}})
	loadScripts(t, ctx, c)
	errs := &errLog{}
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })
	redisslot.SetRetryInterval(a, time.Minute) // no retry while the test runs
	armed := make(chan struct{}, 1)
	redisslot.SetOnArm(a, func(time.Duration) { sendOrDrop(armed, struct{}{}) })
	src, dst := servers[source].Client(t), servers[target].Client(t)

	for _, key := range keysOnNode(t, ctx, servers, a, source, 3) {
		select { // an arm of the last staging's waiter
		case <-armed:
		default:
		}
		_, rel := mustTry(t, a, ctx, key, 1)
		member := members(t, src, redisslot.SlotKey(a, key))[0].Member.(string)
		served := waitingAcquire(t, ctx, a, key, 1)
		recv(t, armed, waitAtOnce, "the waiter's first try is answered")
		slot := keySlot(t, ctx, src, redisslot.SlotKey(a, key))
		openMove(t, ctx, src, dst, slot)
		released.Store(&member)
		start := time.Now()
		rel()
		if err := recv(t, served, waitAtOnce, "the waiter's Acquire returns"); err == nil || !strings.Contains(err.Error(), "TRYAGAIN") {
			t.Fatalf("the waiter's Acquire of %q while the move is open = %v; want TRYAGAIN", key, err)
		}
		if carried.Load() {
			assertFreedWhileMoving(t, ctx, src, a, key, start, errs)
			if err := giveUpMove(ctx, src, dst, slot); err != nil {
				t.Fatalf("CLUSTER SETSLOT %d STABLE: %v", slot, err)
			}
			return
		}
		t.Logf("%q: the waiter's try came before the release, carrying nothing: staged again", key)
		if err := giveUpMove(ctx, src, dst, slot); err != nil {
			t.Fatalf("CLUSTER SETSLOT %d STABLE: %v", slot, err)
		}
	}
	t.Fatal("no try carrying the free was answered TRYAGAIN in 3 stagings")
}

// assertFreedWhileMoving fails t unless key's slot set on src, its hash
// slot migrating, is freed within waitAtOnce of start.
func assertFreedWhileMoving(t *testing.T, ctx context.Context, src *redis.Client, a *redisslot.Limiter, key string, start time.Time, errs *errLog) {
	t.Helper()
	// A ZREM of its last member deletes the slot set, and while the hash
	// slot is migrating its source answers ASK to a read of a key it lacks.
	freed := func() bool {
		n, err := src.ZCard(ctx, redisslot.SlotKey(a, key)).Result()
		return err == nil && n == 0 || redis.HasErrorPrefix(err, "ASK ")
	}
	for !freed() && time.Since(start) < waitAtOnce {
		time.Sleep(pollInterval)
	}
	if !freed() {
		t.Fatalf("the slot of %q, released, its free carried by a try answered TRYAGAIN, still in its slot set %v later (pending frees %d, OnError %v); want it freed within %v, not at the next round (every %v)",
			key, time.Since(start).Round(time.Millisecond), a.Stats().PendingFrees, errs.all(), waitAtOnce, redisslot.RenewEvery(a))
	}
}

// names reports whether cmd's arguments name member.
func names(cmd redis.Cmder, member string) bool {
	for _, arg := range cmd.Args() {
		if fmt.Sprint(arg) == member {
			return true
		}
	}
	return false
}
