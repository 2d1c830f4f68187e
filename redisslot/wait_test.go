package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
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

type result struct {
	who int
	rel func()
	err error
}

// startWaiter runs Acquire on a goroutine and waits until it is queued as
// the n-th waiter of key on l.
func startWaiter(t *testing.T, l *redisslot.Limiter, ctx context.Context, key string, limit, who int, out chan<- result) {
	t.Helper()
	before := redisslot.Waiters(l, key)
	go func() {
		_, rel, err := l.Acquire(ctx, key, limit)
		out <- result{who, rel, err}
	}()
	eventually(t, fmt.Sprintf("waiter %d queues", who), func() bool { return redisslot.Waiters(l, key) == before+1 })
}

func receive(t *testing.T, c <-chan result) result {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(waitLong):
		t.Fatalf("no Acquire returned within %v", waitLong)
		return result{}
	}
}

// Issue 11: a release on one Limiter wakes a waiter on another through
// pub/sub, without waiting for a retry.
func TestReleaseWakesWaiterOnAnotherLimiter(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	h := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	tries := acquireCounter(w.client)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan result, 1)
	startWaiter(t, w.l, ctx, "k", 1, 0, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() == 2 })
	released := time.Now()
	rel()
	r := receive(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v", r.err)
	}
	t.Logf("hand-off from a release to a waiter on another Limiter: %v", time.Since(released))
	r.rel()
}

// Issue 11: the release publishes the wake-up in the same round trip as the
// free.
func TestReleasePublishesWakeUpInTheSameCall(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := rawClient(t, srv)
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
	f.count.Reset()
	rel()
	msg, err := ps.ReceiveMessage(ctx) // the release does not wait for its free
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count.RoundTrips(); n != 1 {
		t.Errorf("release took %d round trips; want 1, free and wake-up together", n)
	}
	if msg.Payload != "1" {
		t.Errorf("wake-up payload %q; want the number of slots freed, 1", msg.Payload)
	}
}

// Issue 11: one pub/sub connection per Limiter, whatever the number of
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
	out := make(chan result, 2*keys*perKey)
	for _, w := range ws {
		for k := range keys {
			for i := range perKey {
				startWaiter(t, w.l, wctx, fmt.Sprint("k", k), 1, i, out)
			}
		}
	}
	raw := rawClient(t, srv)
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
	if pubsub != len(ws) {
		t.Errorf("%d pub/sub connections for %d Limiters with %d waiters on %d keys each; want one per Limiter",
			pubsub, len(ws), keys*perKey, keys)
	}
	cancel()
	for range 2 * keys * perKey {
		if r := receive(t, out); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
		}
	}
	for _, rel := range rels {
		rel()
	}
}

// Issue 11: local waiters are woken oldest first, only as many as slots
// were freed.
func TestWakeUpsGoToTheOldestWaitersOnlyAsManyAsFreed(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	h := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	tries := acquireCounter(w.client)
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, h.l, ctx, "k", 2)
	_, rel2 := mustTry(t, h.l, ctx, "k", 2)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const waiters = 5
	out := make(chan result, waiters)
	for i := range waiters {
		startWaiter(t, w.l, wctx, "k", 2, i, out)
	}
	// The first waiter tried before queuing, and again once subscribed;
	// the others queued behind it without trying.
	eventually(t, "two tries before any release", func() bool { return tries.Load() == 2 })

	for i, rel := range []func(){rel1, rel2} {
		rel()
		r := receive(t, out)
		if r.err != nil {
			t.Fatalf("Acquire: %v", r.err)
		}
		if r.who != i {
			t.Errorf("release %d woke waiter %d; want the oldest, %d", i, r.who, i)
		}
		defer r.rel()
	}
	// A herd would show as tries by the other waiters right after each
	// wake-up; give them a moment to show.
	time.Sleep(200 * time.Millisecond)
	if n := tries.Load(); n != 4 {
		t.Errorf("%d acquire calls for 2 freed slots; want 2 + 2 (no thundering herd)", n)
	}
	cancel()
	for range waiters - 2 {
		if r := receive(t, out); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
		}
	}
}

// Issue 11: a waiter that loses the slot to another instance waits again,
// keeping its place.
func TestWaiterThatLosesTheRaceWaitsAgainInItsPlace(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	h := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	thief := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	redisslot.SetRetryInterval(w.l, noRetry)
	ctx := ctxWithTimeout(t)
	var steal atomic.Bool
	stolen := make(chan func(), 1)
	w.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		if steal.CompareAndSwap(true, false) {
			_, rel, err := thief.l.TryAcquire(ctx, "k", 1)
			if err != nil {
				t.Errorf("thief: %v", err)
			}
			stolen <- rel
		}
		return next()
	}})
	tries := acquireCounter(w.client)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make(chan result, 2)
	startWaiter(t, w.l, wctx, "k", 1, 0, out)
	startWaiter(t, w.l, wctx, "k", 1, 1, out)
	eventually(t, "two tries before any release", func() bool { return tries.Load() == 2 })

	steal.Store(true)
	rel() // waiter 0 is woken, but the thief takes the slot first
	relThief := <-stolen
	eventually(t, "waiter 0 tries and loses", func() bool { return tries.Load() == 3 })
	select {
	case r := <-out:
		t.Fatalf("waiter %d returned (%v) although the slot was taken", r.who, r.err)
	default:
	}
	if n := redisslot.Waiters(w.l, "k"); n != 2 {
		t.Fatalf("%d waiters after the lost race; want 2", n)
	}
	relThief()
	r := receive(t, out)
	if r.err != nil {
		t.Fatalf("Acquire: %v", r.err)
	}
	if r.who != 0 {
		t.Errorf("after the lost race, waiter %d got the slot; want waiter 0, which kept its place", r.who)
	}
	r.rel()
	r = receive(t, out)
	if r.err != nil || r.who != 1 {
		t.Fatalf("then waiter %d: %v; want waiter 1 to get the slot", r.who, r.err)
	}
	r.rel()
}

// Issue 11: a lost wake-up still ends with the slot taken within the retry
// interval.
func TestLostWakeUpStillEndsWithTheSlotTakenWithinTheRetryInterval(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	h := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	var dropped atomic.Int32
	redisslot.SetDropWake(w.l, func(string) bool { dropped.Add(1); return true })
	tries := acquireCounter(w.client)
	retry := redisslot.RetryInterval(w.l)
	if want := min(testLease/3, time.Second); retry != want {
		t.Errorf("retry interval %v with Lease %v; want min(Lease/3, 1s) = %v", retry, testLease, want)
	}
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	out := make(chan result, 1)
	startWaiter(t, w.l, ctx, "k", 1, 0, out)
	eventually(t, "the waiter tries once subscribed", func() bool { return tries.Load() >= 2 })
	released := time.Now()
	rel()
	r := receive(t, out)
	took := time.Since(released)
	if r.err != nil {
		t.Fatalf("Acquire: %v", r.err)
	}
	defer r.rel()
	if dropped.Load() == 0 {
		t.Errorf("no wake-up was dropped; the test proves nothing")
	}
	t.Logf("slot taken %v after a release whose wake-up was dropped (retry interval %v)", took, retry)
	// The slack covers a loaded machine; a waiter that relied on the lost
	// wake-up would wait until ctx ends.
	if slack := 2 * time.Second; took > retry+slack {
		t.Errorf("slot taken %v after the release; want within the retry interval %v (+%v slack)", took, retry, slack)
	}
}

// Issue 11: a slot freed silently, by a lease that ends, is taken within the
// lease plus the retry interval. A live holder on the same key keeps the
// slot set alive, so the slot frees by its member's lease alone.
func TestSlotFreedByAnEndedLeaseIsTakenWithoutAWakeUp(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	var dead atomic.Bool
	crashed := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	crashed.client.AddHook(deadHook{&dead})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	ctx := ctxWithTimeout(t)
	_, relLive := mustTry(t, w.l, ctx, "k", 2)
	defer relLive()
	//lostrelease:ignore the crashed instance never frees its slot
	mustTry(t, crashed.l, ctx, "k", 2)
	dead.Store(true)
	died := time.Now()
	_, rel, err := w.l.Acquire(ctx, "k", 2)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer rel()
	t.Logf("slot of a dead holder taken %v after its last renewal (Lease %v, retry %v)",
		time.Since(died), testLease, redisslot.RetryInterval(w.l))
}

// Issue 11: Acquire returns at once with ctx's error, and leaves nothing
// behind: no waiter, no subscription, no goroutine.
func TestAcquireReturnsWhenCtxIsDoneAndLeavesNothingBehind(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	h := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	w := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	raw := rawClient(t, srv)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()

	// One waiter first, so that the subscriber's goroutines run.
	idle := runtime.NumGoroutine()
	out := make(chan result, 1)
	first, cancelFirst := context.WithCancel(ctx)
	startWaiter(t, w.l, first, "k", 1, 0, out)
	base := runtime.NumGoroutine()
	// Less the goroutine that calls Acquire.
	t.Logf("the first waiter started %d goroutines for the Limiter: its pub/sub listener and go-redis's reader and health check", base-idle-1)

	wctx, cancel := context.WithCancel(ctx)
	const waiters = 20
	many := make(chan result, waiters)
	for i := range waiters {
		startWaiter(t, w.l, wctx, "k", 1, i+1, many)
	}
	if extra := runtime.NumGoroutine() - base - waiters; extra > 0 {
		t.Errorf("%d more waiters started %d goroutines besides their own callers; want 0", waiters, extra)
	}
	deadline, cancelDl := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelDl()
	//lostrelease:ignore the call must fail at its deadline
	if _, _, err := w.l.Acquire(deadline, "k", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire past its deadline: err = %v; want context.DeadlineExceeded", err)
	}
	cancelled := time.Now()
	cancel()
	for range waiters {
		if r := receive(t, many); !errors.Is(r.err, context.Canceled) {
			t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
		}
	}
	t.Logf("%d waiters returned %v after their ctx was cancelled", waiters, time.Since(cancelled))
	eventually(t, "goroutines back to their number with one waiter", func() bool { return runtime.NumGoroutine() <= base })

	cancelFirst()
	if r := receive(t, out); !errors.Is(r.err, context.Canceled) {
		t.Errorf("Acquire returned %v on cancel; want context.Canceled", r.err)
	}
	if n := redisslot.Waiters(w.l, "k"); n != 0 {
		t.Errorf("%d waiters left; want 0", n)
	}
	eventually(t, "no subscription left for the key", func() bool {
		chans, err := raw.PubSubChannels(ctx, prefix+"*").Result()
		return err == nil && len(chans) == 0
	})
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

// Issue 11: beyond MaxWaiters, Acquire returns ErrFull at once.
func TestAcquireBeyondMaxWaitersReturnsErrFull(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease, MaxWaiters: 2})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	wctx, cancel := context.WithCancel(ctx)
	out := make(chan result, 2)
	startWaiter(t, f.l, wctx, "k", 1, 0, out)
	startWaiter(t, f.l, wctx, "k", 1, 1, out)
	//lostrelease:ignore the call must fail with ErrFull
	if sctx, rel, err := f.l.Acquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) || sctx != nil || rel != nil {
		t.Errorf("third Acquire with MaxWaiters 2 = %v, %v, %v; want nil, nil, ErrFull", sctx, rel != nil, err)
	} else if !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("third Acquire with MaxWaiters 2: err = %q; want it to name the key", err)
	}
	cancel()
	for range 2 {
		receive(t, out)
	}
}
