package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// noRetry is a retry interval so long that only wake-ups move a waiter.
const noRetry = time.Hour

// acquireCounter counts the acquire script calls a client sends.
func acquireCounter(c *redis.Client) *atomic.Int64 {
	var n atomic.Int64
	c.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		n.Add(int64(len(cmds)))
		return next()
	}})
	return &n
}

// A release on one Limiter wakes a waiter on another through
// pub/sub, without waiting for a retry.
func TestReleaseWakesWaiterOnAnotherLimiter(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	tries := acquireCounter(w.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan outcome, 1)
	queueAcquire(t, w.l, ctx, "k", 1, 0, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() == 2 })
	rel()
	// With no retry timer, only the wake-up can move the waiter.
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v", r.err)
	}
	r.rel()
}

// A first-in-line waiter that leaves (its ctx ended) wakes, in the call
// that takes it out of the queue, the waiter behind it on another Limiter
// once there is room for that one, without a retry timer.
func TestHeadWaiterLeavingWakesTheNextOnAnotherLimiter(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	tries := acquireCounter(w.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 2)
	defer rel()
	// The head passes limit 1, which the holder fills; the next passes 2
	// and waits only behind the head.
	hctx, cancel := context.WithCancel(ctx)
	head := make(chan outcome, 1)
	joinQueue(t, h.l, hctx, "k", 1, 0, head)
	out := make(chan outcome, 1)
	joinQueue(t, w.l, ctx, "k", 2, 1, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() == 2 })
	cancel()
	if o := nextOutcome(t, head); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("the head's Acquire: %v; want context.Canceled", o.err)
	}
	// With no retry timer, only the leaving head's wake-up can move the waiter.
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("the next waiter's Acquire: %v; want a slot once the head left", r.err)
	}
	r.rel()
}

// The release publishes the wake-up in the same round trip as the
// free, when the key has waiters, naming the waiter that may take the slot.
func TestReleasePublishesWakeUpInTheSameCall(t *testing.T) {
	srv, f, w := pair(t, redisslot.Options{Lease: longLease})
	warmUp(t, f.l)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	ps := raw.Subscribe(ctx, redisslot.WakeChannel(f.l, "k"))
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	f.count.Reset()
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	if n := f.count.RoundTrips(); n != 1 {
		t.Errorf("acquire took %d round trips; want 1", n)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan outcome, 1)
	queueAcquire(t, w.l, wctx, "k", 1, 0, out)
	order, _ := redisslot.QueueKeys(f.l, "k")
	waiter, err := raw.ZRange(ctx, order, 0, 0).Result()
	if err != nil || len(waiter) != 1 {
		t.Fatalf("ZRANGE %s 0 0 = %v, %v; want the waiter", order, waiter, err)
	}
	f.count.Reset()
	rel()
	// The release does not wait for its free.
	rctx, cancelReceive := context.WithTimeout(ctx, waitAtOnce)
	defer cancelReceive()
	msg, err := ps.ReceiveMessage(rctx)
	if err != nil {
		t.Fatalf("no wake-up published after the release: %v", err)
	}
	if n := f.count.RoundTrips(); n != 1 {
		t.Errorf("release took %d round trips; want 1, free and wake-up together", n)
	}
	if msg.Payload != waiter[0] {
		t.Errorf("wake-up payload %q; want the waiter that may take the slot, %q", msg.Payload, waiter[0])
	}
	if r := nextOutcome(t, out); r.err != nil {
		t.Errorf("waiter: %v", r.err)
	} else {
		r.rel()
	}
}

// One pub/sub connection per Limiter, whatever the number of
// waiters and keys.
func TestOnePubSubConnectionPerLimiter(t *testing.T) {
	srv := redistest.Start(t)
	ctx := ctxWithTimeout(t)
	h := newFixture(t, srv, redisslot.Options{Lease: longLease, Prefix: "p:"})
	ws := []*fixture{
		newFixture(t, srv, redisslot.Options{Lease: longLease, Prefix: "p:"}),
		newFixture(t, srv, redisslot.Options{Lease: longLease, Prefix: "p:"}),
	}
	const keys, perKey = 4, 3
	var rels []func()
	for k := range keys {
		_, rel := mustTry(t, h.l, ctx, fmt.Sprint("k", k), 1)
		rels = append(rels, rel)
	}
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 2*keys*perKey)
	for _, w := range ws {
		for k := range keys {
			for i := range perKey {
				queueAcquire(t, w.l, wctx, fmt.Sprint("k", k), 1, i, out)
			}
		}
	}
	raw := srv.Client(t)
	eventually(t, "every key subscribed", func() bool {
		n, _ := raw.PubSubNumSub(ctx, redisslot.WakeChannel(ws[0].l, "k3")).Result()
		return n[redisslot.WakeChannel(ws[0].l, "k3")] == 2
	})
	list, err := raw.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	pubsub := 0
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "flags=P") {
			pubsub++
		}
	}
	if pubsub != 1+len(ws) {
		t.Errorf("%d pub/sub connections for a Limiter that holds slots and %d Limiters with %d waiters on %d keys each; want one per Limiter",
			pubsub, len(ws), keys*perKey, keys)
	}
	cancel()
	for range 2 * keys * perKey {
		if r := nextOutcome(t, out); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
		}
	}
	for _, rel := range rels {
		rel()
	}
}

// Local waiters are woken oldest first, only as many as slots
// were freed: each wake-up message wakes one waiter per slot it announces,
// and no other waiter tries.
func TestWakeUpsGoToTheOldestWaitersOnlyAsManyAsFreed(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	tries := acquireCounter(w.client)
	woke := make(chan int, 10)
	redisslot.SetOnWake(w.l, func(_ string, n int) { sendOrDrop(woke, n) })
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, h.l, ctx, "k", 2)
	_, rel2 := mustTry(t, h.l, ctx, "k", 2)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const waiters = 5
	out := make(chan outcome, waiters)
	for i := range waiters {
		queueAcquire(t, w.l, wctx, "k", 2, i, out)
	}
	// Each waiter tried once, joining the queue, and the oldest once more
	// when the subscription was confirmed.
	eventually(t, "every waiter joined, and the oldest probed", func() bool { return tries.Load() == waiters+1 })

	for i, rel := range []func(){rel1, rel2} {
		rel()
		if n := recv(t, woke, waitAtOnce, fmt.Sprintf("release %d: no wake-up heard", i)); n != 1 {
			t.Errorf("release %d woke %d waiters; want 1, as many as slots freed", i, n)
		}
		r := nextOutcome(t, out)
		if r.err != nil {
			t.Fatalf("Acquire: %v", r.err)
		}
		if r.who != i {
			t.Errorf("release %d woke waiter %d; want the oldest, %d", i, r.who, i)
		}
		defer r.rel()
		// The woken waiter's try was answered before Acquire returned,
		// and no other waiter had a wake-up to try on.
		if got, want := tries.Load(), int64(waiters+1+i+1); got != want {
			t.Errorf("after release %d: %d acquire calls; want %d, one try per slot freed", i, got, want)
		}
	}
	cancel()
	for range waiters - 2 {
		if r := nextOutcome(t, out); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
		}
	}
}

// TryAcquire right after a release, while a waiter on
// another instance waits, gets ErrFull, and the waiter gets the slot. The
// waiter's wake-up is dropped, so that TryAcquire surely comes first; its
// retry timer then finds the slot still free for it.
func TestTryAcquireAfterAReleaseDoesNotJumpTheQueue(t *testing.T) {
	srv, h, w := pair(t, redisslot.Options{Lease: longLease})
	var dropped atomic.Int64
	redisslot.SetDropWake(w.l, func(string) bool { dropped.Add(1); return true })
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan outcome, 1)
	queueAcquire(t, w.l, ctx, "k", 1, 0, out)
	waitSubscribed(t, srv.Client(t), redisslot.WakeChannel(w.l, "k"))
	rel()
	if _, _, err := h.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire right after a release, with a waiter queued elsewhere: %v; want ErrFull", err)
	}
	r := nextOutcome(t, out)
	if r.err != nil {
		t.Fatalf("waiter: %v", r.err)
	}
	defer r.rel()
	if n := inUse(t, h.l, "k"); n != 1 {
		t.Errorf("InUse = %d; want 1, the waiter's", n)
	}
	eventually(t, "the release's wake-up dropped", func() bool { return dropped.Load() > 0 })
}

// A lost wake-up still ends with the slot taken within the retry
// interval.
func TestLostWakeUpStillEndsWithTheSlotTakenWithinTheRetryInterval(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: testLease})
	var dropped atomic.Int32
	redisslot.SetDropWake(w.l, func(string) bool { dropped.Add(1); return true })
	tries := acquireCounter(w.client)
	retry := redisslot.RetryInterval(w.l)
	if want := min(testLease/3, time.Second); retry != want {
		t.Errorf("retry interval %v with Lease %v; want min(Lease/3, 1s) = %v", retry, testLease, want)
	}
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan outcome, 1)
	queueAcquire(t, w.l, ctx, "k", 1, 0, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() >= 2 })
	released := time.Now()
	rel()
	r := nextOutcome(t, out)
	took := time.Since(released)
	if r.err != nil {
		t.Fatalf("Acquire: %v", r.err)
	}
	defer r.rel()
	eventually(t, "the release's wake-up dropped", func() bool { return dropped.Load() > 0 })
	// The slack covers a loaded machine; a waiter that relied on the lost
	// wake-up would wait until ctx ends.
	if slack := 2 * time.Second; took > retry+slack {
		t.Errorf("slot taken %v after the release; want within the retry interval %v (+%v slack)", took, retry, slack)
	}
}

// A slot freed silently, by a lease that ends, is taken within the
// lease plus the retry interval. A live holder on the same key keeps the
// slot set alive, so the slot frees by its member's lease alone.
func TestSlotFreedByAnEndedLeaseIsTakenWithoutAWakeUp(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	var dead atomic.Bool
	crashed := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	crashed.client.AddHook(deadHook(&dead))
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	ctx := ctxWithTimeout(t)
	_, relLive := mustTry(t, w.l, ctx, "k", 2)
	defer relLive()
	holdAbandoned(t, crashed.l, ctx, "k", 2) // the crashed instance never frees its slot
	dead.Store(true)
	died := time.Now()
	_, rel, err := w.l.Acquire(ctxWithin(t, waitAfter(testLease+redisslot.RetryInterval(w.l))), "k", 2)
	if err != nil {
		t.Fatalf("Acquire of the dead holder's slot: %v", err)
	}
	defer rel()
	// The dead member's lease ends at most a Lease after it died; the
	// waiter's retry timer finds it within the retry interval after that.
	// The slack covers a loaded machine; a waiter that relied on wake-ups
	// would wait until ctx ends.
	if took, bound := time.Since(died), testLease+redisslot.RetryInterval(w.l)+handoffSlack; took > bound {
		t.Errorf("slot of a dead holder taken %v after it died; want within Lease + retry interval (+slack) = %v", took, bound)
	}
}

// Acquire returns at once with ctx's error, and leaves nothing
// behind: no waiter, no subscription, no goroutine. Waiting costs the
// Limiter two goroutines, whatever the number of waiters: its subscriber and
// its entry renewer.
func TestAcquireReturnsWhenCtxIsDoneAndLeavesNothingBehind(t *testing.T) {
	verifyNoLeaks(t)
	srv, h, w := pair(t, redisslot.Options{Lease: longLease})
	prefix := testPrefix(t)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()

	wctx, cancel := context.WithCancel(ctx)
	const waiters = 20
	many := make(chan outcome, waiters)
	for i := range waiters {
		queueAcquire(t, w.l, wctx, "k", 1, i, many)
	}
	if n := backgroundGoroutines(); n != 4 {
		t.Errorf("%d goroutines of the Limiters with %d waiters; want 4: the holder's renewer and subscriber, the waiters' subscriber and entry renewer", n, waiters)
	}
	deadline, cancelDl := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelDl()
	if _, _, err := w.l.Acquire(deadline, "k", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire past its deadline: err = %v; want context.DeadlineExceeded", err)
	}
	cancel()
	for range waiters {
		if r := nextOutcome(t, many); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
		}
	}
	if n := redisslot.Waiters(w.l, "k"); n != 0 {
		t.Errorf("%d waiters left; want 0", n)
	}
	eventually(t, "no subscription left for the key", func() bool {
		chans, err := raw.PubSubChannels(ctx, prefix+"*").Result()
		return err == nil && len(chans) == 0
	})
	canary := redisslot.CanaryChannel(h.l)
	if subs, err := raw.PubSubNumSub(ctx, canary).Result(); err != nil || subs[canary] == 0 {
		t.Errorf("subscribers of the restart canary %q: %v, %v; want the holder's, kept", canary, subs, err)
	}
	eventually(t, "the waiters' entries gone from Redis", func() bool {
		loads, err := w.l.Load(ctx, "k")
		return err == nil && loads[0].Waiting == 0
	})
	eventually(t, "only the holder's renewer and the two subscribers left running", func() bool { return backgroundGoroutines() == 3 })
	if err := w.l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := h.l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	_ = w.client.Close()
	_ = h.client.Close()
	_ = raw.Close()
}

// backgroundGoroutines counts the Limiters' background goroutines.
func backgroundGoroutines() int { return limiterGoroutines() }

// Beyond MaxWaiters, Acquire returns ErrQueueFull, which also
// matches ErrFull, at once.
func TestAcquireBeyondMaxWaitersReturnsErrQueueFull(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease, MaxWaiters: 2})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 2)
	queueAcquire(t, f.l, wctx, "k", 1, 0, out)
	queueAcquire(t, f.l, wctx, "k", 1, 1, out)
	// A bounded ctx: without the cap, the call would wait.
	if sctx, rel, err := f.l.Acquire(ctxWithin(t, waitAtOnce), "k", 1); !errors.Is(err, redisslot.ErrQueueFull) || !errors.Is(err, redisslot.ErrFull) || sctx != nil || rel != nil {
		t.Errorf("third Acquire with MaxWaiters 2 = %v, %v, %v; want nil, nil, ErrQueueFull (also ErrFull)", sctx, rel != nil, err)
	} else if !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("third Acquire with MaxWaiters 2: err = %q; want it to name the key", err)
	}
	cancel()
	for range 2 {
		nextOutcome(t, out)
	}
}

// The retry interval is capped at 1s, at a Lease where Lease/3 is
// longer (6s: 2s), and the oldest waiter arms its timer within it.
func TestRetryIntervalIsCappedAtOneSecond(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	const lease = 6 * time.Second
	h := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: lease})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: lease})
	if got := redisslot.RetryInterval(w.l); got != time.Second {
		t.Errorf("retry interval %v at Lease %v; want the cap, 1s (not Lease/3 = %v)", got, lease, lease/3)
	}
	armed := make(chan time.Duration, 10)
	redisslot.SetOnArm(w.l, func(d time.Duration) { sendOrDrop(armed, d) })
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan outcome, 1)
	queueAcquire(t, w.l, wctx, "k", 1, 0, out)
	if d := recv(t, armed, waitAtOnce, "the oldest waiter armed no retry timer"); d < 500*time.Millisecond || d > time.Second {
		t.Errorf("the oldest waiter armed its retry timer for %v at Lease %v; want within [0.5s, 1s], the upper half of the capped interval", d, lease)
	}
	cancel()
	nextOutcome(t, out)
}

// A retry timer runs for a random time in the upper half of the
// retry interval, spread over all of it.
func TestRetryDelayIsInTheUpperHalfAndSpread(t *testing.T) {
	const interval, samples = time.Second, 2000
	lo, hi := interval, time.Duration(0)
	for range samples {
		d := redisslot.RetryDelay(interval)
		if d < interval/2 || d > interval {
			t.Fatalf("RetryDelay(%v) = %v; want within [%v, %v]", interval, d, interval/2, interval)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	// Each bound fails by chance with probability 0.9^2000.
	if lo > interval/2+interval/20 || hi < interval-interval/20 {
		t.Errorf("%d delays spread over [%v, %v]; want them over the whole upper half [%v, %v]", samples, lo, hi, interval/2, interval)
	}
}

// errInjected fails a call as if no connection could be had.
var errInjected = fmt.Errorf("test: injected: %w", redis.ErrPoolTimeout)

// A waiter that leaves with a wake-up it has not tried passes it to
// the next waiter. Waiter A is woken while a try of its own is in flight;
// that try fails, so A leaves without trying the wake-up. B, behind it,
// must get it: wake-up messages are dropped from then on, and there is no
// retry timer.
func TestLeavingWaiterPassesOnAWakeUpItDidNotTry(t *testing.T) {
	srv, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	raw := srv.Client(t)
	var aMember atomic.Value
	aBlocked, unblockedA := make(chan struct{}), make(chan struct{})
	blockA := sync.OnceFunc(func() { close(aBlocked) })
	unblockA := sync.OnceFunc(func() { close(unblockedA) })
	t.Cleanup(unblockA) // before the fixtures' Close, even when the test fails
	w.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		member := fmt.Sprint(cmds[0].Args()[scriptArg])
		if aMember.CompareAndSwap(nil, member) || aMember.Load() != member {
			return next() // A's join, and every call of B
		}
		blockA() // A's second try, once subscribed: it fails
		<-unblockedA
		return failWith(cmds, errInjected)
	}})
	woke := make(chan int, 10)
	redisslot.SetOnWake(w.l, func(_ string, n int) { sendOrDrop(woke, n) })
	var drop atomic.Bool
	redisslot.SetDropWake(w.l, func(string) bool { return drop.Load() })
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, h.l, ctx, "k", 2)
	_, rel2 := mustTry(t, h.l, ctx, "k", 2)

	outA, outB := make(chan outcome, 1), make(chan outcome, 1)
	joinQueue(t, w.l, ctx, "k", 2, 0, outA)
	recv(t, aBlocked, waitAtOnce, "waiter A made no try once subscribed")
	joinQueue(t, w.l, ctx, "k", 2, 1, outB)
	// A wake-up while A's try is in flight: it goes to A, the oldest.
	if err := raw.Publish(ctx, redisslot.WakeChannel(w.l, "k"), "1").Err(); err != nil {
		t.Fatal(err)
	}
	if n := recv(t, woke, waitAtOnce, "the published wake-up was not handled"); n != 1 {
		t.Fatalf("the wake-up woke %d waiters; want 1", n)
	}
	drop.Store(true)
	rel1()
	rel2()
	eventually(t, "both slots free", func() bool { return inUse(t, h.l, "k") == 0 })
	unblockA()
	if o := nextOutcome(t, outA); !errors.Is(o.err, errInjected) {
		t.Fatalf("waiter A: %v; want the injected error", o.err)
	}
	getsSlot(t, outB, "waiter B", "waiter B got no slot: the wake-up A left untried was lost")
}

// A fresh queue on a channel still subscribed (the key's last
// waiter left, and the subscriber has not yet unsubscribed) gets no
// subscription confirmation, so its oldest waiter tries at once. The test
// holds the subscriber in a wake-up it drops while A leaves and B joins,
// frees the slot with every wake-up dropped, and then lets it go: only the
// fresh queue's try can hand B the slot.
func TestFreshQueueOnAChannelStillSubscribedTries(t *testing.T) {
	srv, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	raw := srv.Client(t)
	tries := acquireCounter(w.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)

	actx, cancelA := context.WithCancel(ctx)
	outA, outB := make(chan outcome, 1), make(chan outcome, 1)
	joinQueue(t, w.l, actx, "k", 1, 0, outA)
	eventually(t, "A probed once subscribed", func() bool { return tries.Load() == 2 })

	held, unheld := make(chan struct{}), make(chan struct{})
	unhold := sync.OnceFunc(func() { close(unheld) })
	t.Cleanup(unhold) // before the fixtures' Close, even when the test fails
	var once atomic.Bool
	redisslot.SetDropWake(w.l, func(string) bool {
		if once.CompareAndSwap(false, true) {
			close(held)
			<-unheld
		}
		return true
	})
	if err := raw.Publish(ctx, redisslot.WakeChannel(w.l, "k"), "1").Err(); err != nil {
		t.Fatal(err)
	}
	// The subscriber is stuck: it neither unsubscribes nor subscribes.
	recv(t, held, waitAtOnce, "the published wake-up did not reach the subscriber")
	cancelA()
	if o := nextOutcome(t, outA); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("waiter A: %v; want context.Canceled", o.err)
	}
	order, _ := redisslot.QueueKeys(w.l, "k")
	eventually(t, "A out of the queue", func() bool { return raw.ZCard(ctx, order).Val() == 0 })
	joinQueue(t, w.l, ctx, "k", 1, 1, outB)
	rel()
	eventually(t, "the slot free", func() bool { return inUse(t, h.l, "k") == 0 })
	unhold()
	getsSlot(t, outB, "waiter B", "waiter B got no slot: its fresh queue on a subscribed channel never tried")
}

// waitSubscribed polls until a connection is subscribed to channel.
func waitSubscribed(t *testing.T, raw *redis.Client, channel string) {
	t.Helper()
	eventually(t, "subscribed to "+channel, func() bool {
		n, err := raw.PubSubNumSub(context.Background(), channel).Result()
		return err == nil && n[channel] == 1
	})
}

// A release wakes the oldest local waiter of its key at once: its try
// carries the pending free, so a waiter first in line on the releasing
// instance does not wait for the free to reach Redis and the wake-up to
// come back. Here wake-up messages are dropped and there is no retry
// timer: only that local wake-up can hand the waiter the slot.
func TestReleaseWakesTheOldestLocalWaiterAtOnce(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(f.l, noRetry)
	redisslot.SetDropWake(f.l, func(string) bool { return true })
	tries := acquireCounter(f.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	out := make(chan outcome, 1)
	queueAcquire(t, f.l, ctx, "k", 1, 0, out)
	// Its tries so far: to join, and once subscribed.
	eventually(t, "the waiter probed once subscribed", func() bool { return tries.Load() == 3 })
	rel()
	getsSlot(t, out, "waiter", "the local waiter first in line got no slot: the release did not wake it")
}

// A release whose key's oldest waiter here is not first in line (a waiter
// of another Limiter is ahead) does not wake it: the free goes in a call
// of its own, whose wake-up names only the waiter first in line. Waking
// the local waiter would cost it a try that fails.
func TestReleaseDoesNotWakeALocalWaiterThatIsNotFirstInLine(t *testing.T) {
	_, f, r := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(f.l, noRetry)
	redisslot.SetRetryInterval(r.l, noRetry)
	tries := acquireCounter(f.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	outA, outB := make(chan outcome, 1), make(chan outcome, 1)
	joinQueue(t, r.l, ctx, "k", 1, 0, outA)
	joinQueue(t, f.l, ctx, "k", 1, 1, outB)
	// The local waiter's tries so far: the holder's, its join, and once subscribed.
	eventually(t, "the local waiter tries once subscribed", func() bool { return tries.Load() == 3 })
	rel()
	a := nextOutcome(t, outA)
	if a.err != nil || a.who != 0 {
		t.Fatalf("the release went to waiter %d (%v); want waiter 0, first in line", a.who, a.err)
	}
	if n := tries.Load(); n != 3 {
		t.Errorf("the local waiter, second in line, made %d tries after the release; want none", n-3)
	}
	a.rel()
	getsSlot(t, outB, "the local waiter", "the local waiter got no slot after the first in line released it")
}

// A waiter that learns from its own try that it is now first in line (the
// one ahead left without a wake-up for it) is the one a release here then
// wakes: its try carries the free, which needs no call of its own.
func TestWaiterThatLearnsByItsTryItIsFirstIsWokenByTheNextRelease(t *testing.T) {
	srv, f, r := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(f.l, noRetry)
	redisslot.SetRetryInterval(r.l, noRetry)
	tries := acquireCounter(f.client)
	// The local waiter arms its timer after each try; heard once it has made its fourth.
	armed := make(chan time.Duration, 10)
	redisslot.SetOnArm(f.l, func(d time.Duration) {
		if tries.Load() >= 4 {
			sendOrDrop(armed, d)
		}
	})
	var frees atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		frees.Add(1)
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	actx, cancelA := context.WithCancel(ctx)
	outA, outB := make(chan outcome, 1), make(chan outcome, 1)
	joinQueue(t, r.l, actx, "k", 1, 0, outA)
	joinQueue(t, f.l, ctx, "k", 1, 1, outB)
	eventually(t, "the local waiter tries once subscribed", func() bool { return tries.Load() == 3 })
	cancelA() // the key being full, its leaving wakes nobody
	if o := nextOutcome(t, outA); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("first waiter: %v; want context.Canceled", o.err)
	}
	eventually(t, "the first waiter gone from the line", func() bool { return waiting(t, f.l, "k") == 1 })
	if n := tries.Load(); n != 3 {
		t.Fatalf("the local waiter made %d tries before the wake-up; want 2, and the holder's", n-1)
	}
	// A wake-up that names no waiter: the local waiter tries, and learns it is first.
	if err := srv.Client(t).Publish(ctx, redisslot.WakeChannel(f.l, "k"), "1").Err(); err != nil {
		t.Fatal(err)
	}
	recv(t, armed, waitAtOnce, "the local waiter did not try and wait again")
	before := frees.Load()
	rel()
	b := nextOutcome(t, outB)
	if b.err != nil {
		t.Fatalf("the local waiter, first in line: %v; want the released slot", b.err)
	}
	if n := frees.Load() - before; n != 0 {
		t.Errorf("the release sent %d free calls; want none: the woken waiter's try carries the free", n)
	}
	b.rel()
}

// A wake-up message that is a number n, as an operator may publish, wakes
// the n oldest waiters here.
func TestWakeUpThatIsANumberWakesThatManyOldest(t *testing.T) {
	srv, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	woke := make(chan int, 10)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan outcome, 3)
	tries := acquireCounter(w.client)
	for i := range 3 {
		joinQueue(t, w.l, wctx, "k", 1, i, out)
	}
	eventually(t, "the oldest waiter tries once subscribed", func() bool { return tries.Load() == 4 })
	redisslot.SetOnWake(w.l, func(_ string, n int) { sendOrDrop(woke, n) })
	if err := srv.Client(t).Publish(ctx, redisslot.WakeChannel(w.l, "k"), "3").Err(); err != nil {
		t.Fatal(err)
	}
	if n := recv(t, woke, waitAtOnce, "the published wake-up was not handled"); n != 3 {
		t.Errorf("the wake-up %q woke %d waiters; want 3", "3", n)
	}
	cancel()
	for range 3 {
		nextOutcome(t, out)
	}
}

// When the oldest waiter here leaves, the next becomes the oldest at once
// and starts its retry timer: it does not wait for a wake-up that may
// never come.
func TestNextWaiterStartsItsRetryTimerWhenTheOldestLeaves(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	redisslot.SetDropWake(w.l, func(string) bool { return true })
	var arms atomic.Int64
	redisslot.SetOnArm(w.l, func(time.Duration) { arms.Add(1) })
	tries := acquireCounter(w.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	octx, cancelOldest := context.WithCancel(ctx)
	oldest, next := make(chan outcome, 1), make(chan outcome, 1)
	joinQueue(t, w.l, octx, "k", 1, 0, oldest)
	eventually(t, "the oldest tries once subscribed and arms its timer", func() bool { return tries.Load() == 2 && arms.Load() >= 1 })
	nctx, cancelNext := context.WithCancel(ctx)
	defer cancelNext()
	joinQueue(t, w.l, nctx, "k", 1, 1, next)
	before := arms.Load()
	cancelOldest()
	if o := nextOutcome(t, oldest); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("oldest waiter: %v; want context.Canceled", o.err)
	}
	eventually(t, "the next waiter, now the oldest, arms its retry timer", func() bool { return arms.Load() > before })
	cancelNext()
	nextOutcome(t, next)
}

// After a try that does not take a slot, the oldest waiter here starts its
// retry timer again, a full random delay from then: every try, whatever
// woke it, is followed by a fresh arm.
func TestOldestWaiterArmsItsRetryTimerAgainAfterEachTry(t *testing.T) {
	_, h, w := pair(t, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry) // only the wake-ups below make it try
	events := make(chan string, 16)
	redisslot.SetOnArm(w.l, func(time.Duration) { sendOrDrop(events, "arm") })
	w.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		for _, a := range cmds[0].Args() {
			if a == "wait" {
				sendOrDrop(events, "try")
			}
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	wctx, stop := context.WithCancel(ctx)
	out := make(chan outcome, 1)
	joinQueue(t, w.l, wctx, "k", 1, 0, out)
	defer func() { stop(); nextOutcome(t, out) }()
	raw := h.client
	wake := func() {
		t.Helper()
		if err := raw.Publish(ctx, redisslot.WakeChannel(w.l, "k"), "1").Err(); err != nil {
			t.Fatal(err)
		}
	}
	tries, prev := 0, ""
	for tries < 3 || prev == "try" {
		e := recv(t, events, waitAtOnce, "the waiter tries or arms its retry timer")
		if prev == "try" && e != "arm" {
			t.Fatalf("after try %d the waiter's next step: %s; want a fresh arm of its retry timer", tries, e)
		}
		if e == "try" {
			tries++
		}
		if e == "try" || prev == "" {
			wake() // handled once the waiter is back waiting
		}
		prev = e
	}
}
