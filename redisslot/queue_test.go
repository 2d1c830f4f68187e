package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// MaxWaiters 3 with two waiters on one instance
// and one on the other, the fourth Acquire, on either, gets ErrQueueFull at
// once: in the one round trip that found the queue full.
func TestMaxWaitersCapsTheQueueAcrossInstances(t *testing.T) {
	_, a, b := pair(t, redisslot.Options{Lease: longLease, MaxWaiters: 3})
	// The acquire calls made for the fourth callers' ctx, marked; the
	// waiters' retries and entry renewals go on beside.
	type marked struct{}
	var tries atomic.Int64
	for _, f := range []*fixture{a, b} {
		f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
			if ctx.Value(marked{}) != nil {
				tries.Add(int64(len(cmds)))
			}
			return next()
		}})
	}
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, a.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 3)
	joinQueue(t, a.l, wctx, "k", 1, 0, out)
	joinQueue(t, a.l, wctx, "k", 1, 1, out)
	joinQueue(t, b.l, wctx, "k", 1, 2, out)
	for _, f := range []*fixture{a, b} {
		before := tries.Load()
		// A bounded ctx: without the cap, the call would wait.
		fourth, cancelFourth := context.WithTimeout(context.WithValue(ctx, marked{}, true), waitAtOnce)
		_, _, err := f.l.Acquire(fourth, "k", 1)
		cancelFourth()
		if !errors.Is(err, redisslot.ErrQueueFull) || !errors.Is(err, redisslot.ErrFull) || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("fourth Acquire with MaxWaiters 3: %v; want ErrQueueFull (and ErrFull) naming the key", err)
		}
		if n := tries.Load() - before; n != 1 {
			t.Errorf("the refused Acquire made %d acquire calls; want 1", n)
		}
	}
	if n := waiting(t, a.l, "k"); n != 3 {
		t.Errorf("Waiting = %d after the refusals; want 3", n)
	}
	cancel()
	for range 3 {
		if o := nextOutcome(t, out); !errors.Is(o.err, context.Canceled) {
			t.Errorf("waiter %d: %v; want context.Canceled", o.who, o.err)
		}
	}
}

// MaxWaitersFor sets each key's cap, and a result of 0 or
// less falls back to MaxWaiters.
func TestMaxWaitersForCapsEachKey(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease, MaxWaiters: 2, MaxWaitersFor: func(key string, limit int) int {
		if strings.HasPrefix(key, "user:") {
			return limit // 1 for these tests
		}
		return 0
	}})
	ctx := ctxWithTimeout(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan outcome, 3)
	for key, cap := range map[string]int{"user:1": 1, "account:1": 2} {
		_, rel := mustTry(t, f.l, ctx, key, 1)
		defer rel()
		for i := range cap {
			joinQueue(t, f.l, wctx, key, 1, i, out)
		}
		// A bounded ctx: without the cap, the call would wait.
		if _, _, err := f.l.Acquire(ctxWithin(t, waitAtOnce), key, 1); !errors.Is(err, redisslot.ErrQueueFull) {
			t.Errorf("Acquire(%q) with %d waiters: %v; want ErrQueueFull, its cap being %d", key, cap, err, cap)
		}
	}
	cancel()
	for range 3 {
		nextOutcome(t, out)
	}
}

// A waiter whose ctx ends leaves the queue at once, by a free call its
// Limiter sends as Acquire returns, not by its entry's end: once that
// call's reply has come, the waiter is gone from the queue and from Load's
// Waiting. Without the call, its entry would end on its own about a second
// after its last renewal; a free left to the renewal round would come a
// third of the Lease later, 20s here, beyond the hang guard, waitAtOnce.
func TestCancelledWaiterLeavesTheQueueAtOnce(t *testing.T) {
	srv, h, w := pair(t, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	freed := make(chan struct{}, 1)
	w.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		select {
		case freed <- struct{}{}:
		default:
		}
		return err
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 1)
	joinQueue(t, w.l, wctx, "k", 1, 0, out)
	order, _ := redisslot.QueueKeys(w.l, "k")
	cancel()
	if o := nextOutcome(t, out); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("Acquire: %v; want context.Canceled", o.err)
	}
	recv(t, freed, waitAtOnce, fmt.Sprintf("no free call for the waiter's place, whose renewal round is %v away", redisslot.RenewEvery(w.l)))
	n, err := raw.ZCard(ctx, order).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 || waiting(t, h.l, "k") != 0 {
		t.Errorf("after the waiter's free call, it is still in line: ZCARD %s = %d, Waiting = %d", order, n, waiting(t, h.l, "k"))
	}
}

// Load of 50 keys is one round trip, and its
// counts are right.
func TestLoadOfFiftyKeysIsOneRoundTrip(t *testing.T) {
	_, f, w := pair(t, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	wctx, cancel := context.WithCancel(ctx)
	const keys, limit = 50, 3
	var names []string
	want := map[string]redisslot.Load{}
	out := make(chan outcome, keys)
	waiters := 0
	for i := range keys {
		key := fmt.Sprint("k", i)
		names = append(names, key)
		held := i % (limit + 1)
		for range held {
			_, rel := mustTry(t, f.l, ctx, key, limit)
			defer rel()
		}
		queued := 0
		if held == limit && i%2 == 1 {
			joinQueue(t, w.l, wctx, key, limit, i, out)
			queued = 1
			waiters++
		}
		want[key] = redisslot.Load{Key: key, InUse: held, Waiting: queued}
	}
	// Round trips that run the load script, pipelined or not.
	var trips atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.LoadHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		trips.Add(1)
		return next()
	}})
	loads, err := f.l.Load(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	if n := trips.Load(); n != 1 {
		t.Errorf("Load of %d keys took %d round trips; want 1", keys, n)
	}
	if len(loads) != keys {
		t.Fatalf("Load of %d keys returned %d Loads", keys, len(loads))
	}
	for i, got := range loads {
		if w := want[names[i]]; got != w {
			t.Errorf("Load[%d] = %+v; want %+v", i, got, w)
		}
	}
	if waiters == 0 {
		t.Fatal("no key had a waiter; the test proves nothing about Waiting")
	}
	cancel()
	for range waiters {
		nextOutcome(t, out)
	}
}

// Places in the queue are strictly increasing in the order of joining,
// even behind an entry whose order is ahead of Redis's clock (written by
// a Redis whose clock ran ahead, before a failover): each new waiter
// joins after the last, never beside it.
func TestJoinOrderIsStrictlyIncreasingBehindAnOrderAheadOfTheClock(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	raw := srv.Client(t)
	order, until := redisslot.QueueKeys(f.l, "k")
	t.Cleanup(func() { raw.Del(context.Background(), order, until) })
	now := redisNowMs(t, raw)
	const ahead = "ahead-1/1" // a waiter of another instance
	raw.ZAdd(ctx, order, redis.Z{Score: (now + 600_000) * 1000, Member: ahead})
	raw.ZAdd(ctx, until, redis.Z{Score: now + 600_000, Member: ahead})
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 2)
	for i := range 2 {
		joinQueue(t, f.l, wctx, "k", 1, i, out)
	}
	zs, err := raw.ZRangeWithScores(ctx, order, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(zs) != 3 || zs[0].Member != ahead {
		t.Fatalf("queue %v; want the entry ahead of the clock first, then the two waiters", zs)
	}
	for i := 1; i < len(zs); i++ {
		if zs[i].Score <= zs[i-1].Score {
			t.Errorf("queue %v: place %d has order %.0f, not after %.0f; want orders strictly increasing in join order", zs, i, zs[i].Score, zs[i-1].Score)
		}
	}
	cancel()
	for range 2 {
		nextOutcome(t, out)
	}
}

// A caller passing a higher limit does not take the slot that a waiter
// ahead of it, passing a lower one, still needs: with one slot held, a
// waiter of limit 2 ahead, a caller of limit 3 joins the line behind it.
func TestCallerWithAHigherLimitDoesNotTakeTheSlotAWaiterAheadNeeds(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 2)
	defer rel()
	raw := srv.Client(t)
	order, until := redisslot.QueueKeys(f.l, "k")
	t.Cleanup(func() { raw.Del(context.Background(), order, until) })
	now := redisNowMs(t, raw)
	const ahead = "ahead-1/2" // a waiter of another instance, passing limit 2
	raw.ZAdd(ctx, order, redis.Z{Score: now * 1000, Member: ahead})
	raw.ZAdd(ctx, until, redis.Z{Score: now + 600_000, Member: ahead})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan outcome, 1)
	go func() {
		_, rel, err := f.l.Acquire(wctx, "k", 3)
		out <- outcome{0, time.Now(), rel, err}
	}()
	eventually(t, "the caller of limit 3 joins the line behind the waiter of limit 2", func() bool {
		select {
		case o := <-out:
			if o.rel != nil {
				o.rel()
			}
			t.Fatalf("Acquire with limit 3 returned (%v) ahead of a waiter of limit 2 that needs the one free slot; want it to wait behind it", o.err)
		default:
		}
		return waiting(t, f.l, "k") == 2
	})
	cancel()
	if o := nextOutcome(t, out); !errors.Is(o.err, context.Canceled) {
		t.Errorf("Acquire: %v; want context.Canceled", o.err)
	}
}

// When a Limiter's renewal of its waiters' entries drops a waiter ahead
// whose entry ended (its instance died), it wakes the waiters whose turn
// it now is: the next waiter takes the free slot without a retry timer.
func TestEntryRenewalThatDropsAnEndedHeadWakesTheNext(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	out, endDead := behindADeadHead(t, srv, f)
	endDead() // the next entry renewal drops it
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v; want the slot once the dead head was dropped", r.err)
	}
	r.rel()
}

// behindADeadHead puts first in line of key "k", limit 1, nobody holding
// it, the waiter of an instance that died, then an Acquire on f.l, which
// must be woken to try (its retry timer is off), and waits until that
// waiter has tried once, subscribed. endDead ends the dead waiter's entry.
// The Acquire's outcome goes to out.
func behindADeadHead(t *testing.T, srv *redistest.Server, f *fixture) (out chan outcome, endDead func()) {
	t.Helper()
	redisslot.SetRetryInterval(f.l, noRetry)
	tries := acquireCounter(f.client)
	ctx := ctxWithTimeout(t)
	raw := srv.Client(t)
	order, until := redisslot.QueueKeys(f.l, "k")
	t.Cleanup(func() { raw.Del(context.Background(), order, until) })
	now := redisNowMs(t, raw)
	raw.ZAdd(ctx, order, redis.Z{Score: now * 1000, Member: deadWaiter})
	raw.ZAdd(ctx, until, redis.Z{Score: now + 600_000, Member: deadWaiter})
	out = make(chan outcome, 1)
	joinQueue(t, f.l, ctx, "k", 1, 0, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() == 2 })
	return out, func() { raw.ZAdd(ctx, until, redis.Z{Score: redisNowMs(t, raw) - 1, Member: deadWaiter}) }
}

// deadWaiter is the member id of behindADeadHead's waiter of a dead instance.
const deadWaiter = "dead-1/1"

// A waiter's limit goes with its place in line: with one slot free and
// a waiter passing limit 2 first in line, the caller behind it, passing 5
// and woken with it, does not take that slot. Only the caller behind
// tries: every wake-up of the first waiter's Limiter is dropped, and
// neither has a retry timer.
func TestWaiterAheadKeepsTheSlotItsLimitNeeds(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: longLease}
	h, a, c := newFixture(t, srv, opts), newFixture(t, srv, opts), newFixture(t, srv, opts)
	redisslot.SetRetryInterval(a.l, noRetry)
	redisslot.SetRetryInterval(c.l, noRetry)
	redisslot.SetDropWake(a.l, func(string) bool { return true })
	tried := make(chan struct{}, 10)
	c.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		sendOrDrop(tried, struct{}{})
		return err
	}})
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, h.l, ctx, "k", 2)
	_, rel2 := mustTry(t, h.l, ctx, "k", 2)
	defer rel2()
	actx, cancelA := context.WithCancel(ctx)
	defer cancelA()
	outA, outC := make(chan outcome, 1), make(chan outcome, 1)
	joinQueue(t, a.l, actx, "k", 2, 0, outA)
	joinQueue(t, c.l, ctx, "k", 5, 1, outC)
	for range 2 { // its join, and its try once subscribed
		recv(t, tried, waitAtOnce, "the caller behind made no try once subscribed")
	}
	rel1() // one slot free: the first waiter's, by its limit 2
	recv(t, tried, waitAtOnce, "the caller behind was not woken by the free")
	if n := inUse(t, h.l, "k"); n != 1 {
		t.Errorf("InUse = %d after the caller behind tried; want 1: it took the slot the waiter ahead of it needs", n)
	}
	cancelA()
	if o := nextOutcome(t, outA); !errors.Is(o.err, context.Canceled) {
		t.Errorf("first waiter: %v; want context.Canceled", o.err)
	}
	getsSlot(t, outC, "the caller behind", "the caller behind got no slot once the first waiter left")
}

// Load counts only waiters whose entry has not ended: a waiter of a dead
// instance, still in line until a script drops it, is not counted.
func TestLoadDoesNotCountAWaiterWhoseEntryEnded(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	raw := srv.Client(t)
	order, until := redisslot.QueueKeys(f.l, "k")
	t.Cleanup(func() { raw.Del(context.Background(), order, until) })
	now := redisNowMs(t, raw)
	const dead = "dead-1/1"
	raw.ZAdd(ctx, order, redis.Z{Score: now * 1000, Member: dead})
	raw.ZAdd(ctx, until, redis.Z{Score: now - 1, Member: dead})
	loads, err := f.l.Load(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if want := (redisslot.Load{Key: "k", InUse: 1}); loads[0] != want {
		t.Errorf("Load = %+v with a waiter whose entry ended; want %+v", loads[0], want)
	}
}

// Load names at most BatchSize keys in one script call, however many it
// is given: one more key than that takes two calls (in one round trip).
func TestLoadCallsNameAtMostBatchSizeKeys(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var most atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.LoadHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		for _, c := range cmds {
			n, _ := c.Args()[2].(int) // the number of KEYS: two per key
			most.Store(max(most.Load(), int64(n/2)))
		}
		return next()
	}})
	keys := make([]string, redisslot.BatchSize+1)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
	}
	loads, err := f.l.Load(ctxWithTimeout(t), keys...)
	if err != nil || len(loads) != len(keys) {
		t.Fatalf("Load of %d keys = %d Loads, %v", len(keys), len(loads), err)
	}
	if n := most.Load(); n == 0 || n > redisslot.BatchSize {
		t.Errorf("a load call named %d keys; want at most BatchSize, %d", n, redisslot.BatchSize)
	}
}

// Load says what is wrong with a bad key; a key that Redis fails on (it
// is no slot set) is named in the error, and the other keys still answer.
func TestLoadErrorsNameTheKey(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	if _, err := f.l.Load(ctx, "a", ""); err == nil {
		t.Errorf("Load with an empty key: no error")
	}
	if loads, err := f.l.Load(ctx); err != nil || len(loads) != 0 {
		t.Errorf("Load() = %v, %v; want no Loads and no error", loads, err)
	}
	if err := raw.Set(ctx, redisslot.SlotKey(f.l, "str"), "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	_, rel := mustTry(t, f.l, ctx, "a", 2)
	defer rel()
	if err := raw.Set(ctx, redisslot.SlotKey(f.l, "str2"), "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	loads, err := f.l.Load(ctx, "str", "a", "str2", "b")
	var rerr redis.Error
	if !errors.As(err, &rerr) || !strings.Contains(err.Error(), `"str"`) || !strings.Contains(err.Error(), `"str2"`) {
		t.Errorf("Load of two keys that are no slot set: %v; want Redis errors naming both keys", err)
	}
	want := []redisslot.Load{{Key: "str"}, {Key: "a", InUse: 1}, {Key: "str2"}, {Key: "b"}}
	if !slices.Equal(loads, want) {
		t.Errorf("Load with two bad keys = %v; want %v: the good keys answered, the bad ones with only their Key", loads, want)
	}
}

// A live waiter whose entry ended (as after a Redis stall
// longer than the entry TTL) keeps its place while its entry is still in
// the queue, its next renewal bringing it back; and one whose entry is
// gone joins again, at the back.
func TestWaiterWhoseEntryEndedKeepsItsPlaceOrJoinsAgainAtTheBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alter func(c *redis.Client, order, until, member string) error
		want  []int // the order of service of waiters 0 and 1
	}{
		{"entry ended but still in line", func(c *redis.Client, order, until, member string) error {
			return c.ZAdd(context.Background(), until, redis.Z{Score: 1, Member: member}).Err()
		}, []int{0, 1}},
		{"entry gone", func(c *redis.Client, order, until, member string) error {
			if err := c.ZRem(context.Background(), order, member).Err(); err != nil {
				return err
			}
			return c.ZRem(context.Background(), until, member).Err()
		}, []int{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, h, w := pair(t, redisslot.Options{Lease: longLease})
			redisslot.SetRetryInterval(w.l, noRetry) // only renewals and wake-ups move them
			raw := srv.Client(t)
			ctx := ctxWithTimeout(t)
			_, rel := mustTry(t, h.l, ctx, "k", 1)
			out := make(chan outcome, 2)
			joinQueue(t, w.l, ctx, "k", 1, 0, out)
			joinQueue(t, w.l, ctx, "k", 1, 1, out)
			order, until := redisslot.QueueKeys(w.l, "k")
			first, err := raw.ZRange(ctx, order, 0, 0).Result()
			if err != nil || len(first) != 1 {
				t.Fatalf("ZRANGE %s 0 0 = %v, %v", order, first, err)
			}
			if err := tc.alter(raw, order, until, first[0]); err != nil {
				t.Fatal(err)
			}
			// Within a renewal round or two, both are in line again.
			eventually(t, "both waiters in line with live entries", func() bool { return waiting(t, h.l, "k") == 2 })
			rel()
			for i, want := range tc.want {
				o := nextOutcome(t, out)
				if o.err != nil {
					t.Fatalf("waiter %d: %v", o.who, o.err)
				}
				if o.who != want {
					t.Errorf("hand-off %d went to waiter %d; want %d", i, o.who, want)
				}
				o.rel()
			}
		})
	}
}

// A key whose Redis names would have an empty hash tag ("{}" first) is
// refused with an error that says so: on a cluster, its slot set and its
// queue would live in different hash slots.
func TestKeyWithAnEmptyHashTagIsRefused(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	if _, _, err := f.l.Acquire(ctx, "}x", 1); err == nil || !strings.Contains(err.Error(), "hash tag") {
		t.Errorf("Acquire(%q): %v; want an error about the hash tag", "}x", err)
	}
	if _, err := f.l.Load(ctx, "}x"); err == nil {
		t.Errorf("Load(%q): no error; want one about the hash tag", "}x")
	}
	_, rel := mustTry(t, f.l, ctx, "x}", 1) // a brace later is fine
	rel()
}

// flipCtx is a context that ends during its n-th Err call: it cancels
// itself then, so that its end falls between any two reads of it.
type flipCtx struct {
	context.Context
	cancel   context.CancelFunc
	n, calls atomic.Int64
}

func (c *flipCtx) Err() error {
	if c.calls.Add(1) == c.n.Load() {
		c.cancel()
	}
	return c.Context.Err()
}

// A waiter whose ctx ends at any point of its tries leaves no place behind
// in the queue: round n ends the ctx at its n-th read by Err, and whenever
// the waiter's place had reached Redis, a free naming it is sent at once,
// not left to the entry's end. Its retry timer is short, so that it tries
// often enough for every round to end.
func TestWaiterWhoseCtxEndsDuringATryFreesItsPlace(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, 20*time.Millisecond)
	var member atomic.Value // the member id of the round's waiter
	var queued atomic.Bool  // Redis put it in line
	w.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		member.Store(fmt.Sprint(cmds[0].Args()[scriptArg]))
		err := next()
		if r, _ := int64Reply(cmds[0]); len(r) == 3 && r[0] == 2 {
			queued.Store(true)
		}
		return err
	}})
	freed := make(chan string, 1000)
	w.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		for _, c := range cmds {
			for _, a := range c.Args()[scriptArg:] {
				sendOrDrop(freed, fmt.Sprint(a))
			}
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	for n := 1; n <= 12; n++ {
		queued.Store(false)
		inner, cancel := context.WithCancel(ctx)
		fc := &flipCtx{Context: inner, cancel: cancel}
		fc.n.Store(int64(n))
		_, _, err := w.l.Acquire(fc, "k", 1)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("round %d: Acquire = %v; want context.Canceled", n, err)
		}
		if !queued.Load() {
			continue // it never reached the queue: nothing to free
		}
		m := member.Load().(string)
		hangGuard := time.After(waitAtOnce)
	wait:
		for {
			select {
			case a := <-freed:
				if a == m {
					break wait
				}
			case <-hangGuard:
				t.Fatalf("round %d: the waiter's place %s reached the queue and no free named it within %v", n, m, waitAtOnce)
			}
		}
	}
}
