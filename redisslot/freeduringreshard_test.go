package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster whose masters all answer, the release of a slot whose
// hash slot a resharding has begun to move (CLUSTER SETSLOT IMPORTING on
// the target, MIGRATING on the source, as redis-cli --cluster reshard does
// before it moves any key) is freed at once: every key of the slot is still
// on its source, which answers. The README says that a release hands the
// member to the Limiter, "which sends the free at once and again each round
// until Redis confirms it", and lists no resharding among the times Redis
// misbehaves; the package documentation, that the frees of releases "go to
// each master on their own: while one master does not answer, only the
// frees of its keys wait".
//
// The resharding is held open (no key moved) for waitAtOnce and more: a
// resharding moves a hash slot's keys batch by batch, so a slot with many
// keys, or a big one, stays open that long.
func TestReleaseOfASlotWhoseHashSlotIsBeingMovedIsFreedAtOnce(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	const source, target = 1, 2
	ca := clusterClientOf(t, servers, 0)
	var frees atomic.Int64 // free calls sent
	ca.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(_ context.Context, _ []redis.Cmder, next func() error) error {
		frees.Add(1)
		return next()
	}})
	loadScripts(t, ctx, ca)
	errs := &errLog{}
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })

	key := keyOnNode(t, ctx, servers, a, source)
	_, rel := mustTry(t, a, ctx, key, 1)
	src, dst := servers[source].Client(t), servers[target].Client(t)
	slot := keySlot(t, ctx, src, redisslot.SlotKey(a, key))
	openMove(t, ctx, src, dst, slot)
	t.Cleanup(func() { _ = giveUpMove(context.Background(), src, dst, slot) })

	sent := frees.Load()
	released := time.Now()
	rel()
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
		var reports []string
		for _, err := range errs.all() {
			reports = append(reports, err.Error())
		}
		// What Redis answers a call naming the slot set and its queue, as the free script does.
		rkey := redisslot.SlotKey(a, key)
		both := ca.Eval(ctx, "return redis.call('ZCARD', KEYS[1])", []string{rkey, rkey + ":queue"}).Err()
		st := a.Stats()
		// The resharding given up, how much later does the free arrive?
		if err := giveUpMove(ctx, src, dst, slot); err != nil {
			t.Fatalf("CLUSTER SETSLOT %d STABLE: %v", slot, err)
		}
		stable := time.Now()
		for !freed() && time.Since(stable) < waitLong {
			time.Sleep(pollInterval)
		}
		t.Fatalf("the slot of %q, released, still in its slot set on its source %v later (pending frees of a: %d, free calls sent since: %d; OnError so far: %q; a call naming the slot set and its queue: %v); want it freed within %v. Once the hash slot was stable again it took %v more (freed: %v)",
			key, stable.Sub(released).Round(time.Millisecond), st.PendingFrees, frees.Load()-sent, reports, both, waitAtOnce, time.Since(stable).Round(time.Millisecond), freed())
	}
	t.Logf("freed %v after its release", time.Since(released))
}

// The free of a slot released while a resharding holds its hash slot open
// removes the holder alone: its free script, answered TRYAGAIN, publishes
// no wake-up, and once it runs it finds the holder gone and wakes nobody.
// A waiter of the key on another instance is still served once the move
// ends, by its own retry timer, long before the holder's next round sends
// the free again. Its retry interval is long enough that it does not try
// while the move is open (a try then is answered TRYAGAIN, which Acquire
// returns).
func TestWaiterOfASlotReleasedWhileItsHashSlotIsBeingMovedIsServedOnceTheMoveEnds(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithTimeout(t)
	servers := redistest.StartCluster(t, 3)
	const source, target = 1, 2
	c := clusterClientOf(t, servers, 0)
	answered := make(chan struct{}, 1) // a free call answered TRYAGAIN
	c.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		for _, cmd := range cmds {
			if redis.HasErrorPrefix(cmd.Err(), "TRYAGAIN") {
				sendOrDrop(answered, struct{}{})
			}
		}
		return err
	}})
	loadScripts(t, ctx, c)
	errs := &errLog{} // a's free answered TRYAGAIN, reported
	a := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: errs.add})
	t.Cleanup(func() { _ = a.Close() })
	b := redisslot.New(c, redisslot.Options{Prefix: "p:", Lease: time.Minute, OnError: errs.add})
	t.Cleanup(func() { _ = b.Close() })
	const retry = 4 * time.Second // its first try 2 s to 4 s after it joins
	redisslot.SetRetryInterval(b, retry)

	key := keyOnNode(t, ctx, servers, a, source)
	_, rel := mustTry(t, a, ctx, key, 1)
	served := waitingAcquire(t, ctx, b, key, 1)
	joined := time.Now()
	src, dst := servers[source].Client(t), servers[target].Client(t)
	slot := keySlot(t, ctx, src, redisslot.SlotKey(a, key))
	openMove(t, ctx, src, dst, slot)
	t.Cleanup(func() { _ = giveUpMove(context.Background(), src, dst, slot) })

	rel()
	recv(t, answered, waitAtOnce, "Redis answers TRYAGAIN to the free of a's slot")
	if err := giveUpMove(ctx, src, dst, slot); err != nil {
		t.Fatalf("CLUSTER SETSLOT %d STABLE: %v", slot, err)
	}
	stable := time.Now()
	if err := recv(t, served, waitAtOnce, "b's Acquire returns once the move ended"); err != nil {
		t.Fatalf("b's Acquire(%q, 1) = %v after the move, open %v after b joined; want a slot", key, err, stable.Sub(joined).Round(time.Millisecond))
	}
	t.Logf("served %v after the move ended, %v after it joined", time.Since(stable), time.Since(joined))
}
