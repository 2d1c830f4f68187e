package redisslot_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 7: after Close, every call returns ErrClosed.
func TestCloseMakesLaterCallsReturnErrClosed(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{})
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := ctxWithTimeout(t)
	if sctx, rel, err := f.l.TryAcquire(ctx, "k", 1); err != redisslot.ErrClosed || sctx != nil || rel != nil {
		t.Errorf("TryAcquire after Close = %v, %v, %v; want nil, nil, ErrClosed", sctx, rel != nil, err)
	}
	if sctx, rel, err := f.l.Acquire(ctx, "k", 1); err != redisslot.ErrClosed || sctx != nil || rel != nil {
		t.Errorf("Acquire after Close = %v, %v, %v; want nil, nil, ErrClosed", sctx, rel != nil, err)
	}
	if _, err := f.l.InUse(ctx, "k"); err != redisslot.ErrClosed {
		t.Errorf("InUse after Close: err = %v; want ErrClosed", err)
	}
}

// Promise 7: Close ends a waiting Acquire with ErrClosed.
func TestCloseEndsWaitingAcquireWithErrClosed(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	errc := make(chan error, 1)
	go func() {
		_, rel, err := f.l.Acquire(ctx, "k", 1)
		if err == nil {
			rel()
		}
		errc <- err
	}()
	eventually(t, "Acquire waits", func() bool { return redisslot.Waiters(f.l, "k") == 1 })
	closed := make(chan error, 1)
	go func() { closed <- f.l.Close() }()
	if err := recv(t, closed, waitAtOnce, "Close did not return with an Acquire waiting"); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := recv(t, errc, waitAtOnce, "waiting Acquire did not return on Close"); err != redisslot.ErrClosed {
		t.Errorf("waiting Acquire returned %v on Close; want ErrClosed", err)
	}
}

// Promise 7: Close cancels every held slot's context with ErrClosed and
// frees them with one call per key, in one round trip; their releases then
// send nothing.
func TestCloseCancelsHeldSlotsAndFreesThemInOneCallPerKey(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	var ctxs []context.Context
	var rels []func()
	for _, key := range []string{"a", "a", "a", "b", "b", "b"} {
		sctx, rel := mustTry(t, f.l, ctx, key, 3)
		ctxs = append(ctxs, sctx)
		rels = append(rels, rel)
	}
	f.count.Reset()
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i, sctx := range ctxs {
		if got := context.Cause(sctx); got != redisslot.ErrClosed {
			t.Errorf("slot %d: context cause after Close = %v; want ErrClosed", i, got)
		}
	}
	if got := f.count.ByName("evalsha") + f.count.ByName("eval"); got != 2 {
		t.Errorf("Close sent %d script calls to free 3 slots on each of 2 keys; want 2", got)
	}
	if got := f.count.RoundTrips(); got != 1 {
		t.Errorf("Close took %d round trips; want 1", got)
	}
	for _, key := range []string{"a", "b"} {
		if zs := members(t, raw, redisslot.SlotKey(f.l, key)); len(zs) != 0 {
			t.Errorf("members of %s after Close: %v; want none", key, zs)
		}
	}
	sent := f.count.Commands()
	for _, rel := range rels {
		rel()
	}
	if got := f.count.Commands(); got != sent {
		t.Errorf("releases after Close sent %d commands; want none", got-sent)
	}
}

// Promise 7: Close waits for frees in flight.
func TestCloseWaitsForFreesInFlight(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	entered, unblocked := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(unblocked) })
	t.Cleanup(unblock) // before the fixture's Close, even when the test fails
	var first atomic.Bool
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if first.CompareAndSwap(false, true) { // the background free, not Close's own
			close(entered)
			<-unblocked
		}
		return next()
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	rel()
	recv(t, entered, waitAtOnce, "the release sent no free")
	closed := make(chan error, 1)
	go func() { closed <- f.l.Close() }()
	awaitCloseWaiting(t, closed, "a free")
	unblock()
	if err := recv(t, closed, waitAtOnce, "Close did not return once the free went through"); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := len(members(t, srv.Client(t), testPrefix(t)+"{k}")); n != 0 {
		t.Errorf("%d members when Close has returned; want 0", n)
	}
}

// Promise 7: Close waits for acquires in flight, which then return
// ErrClosed and leave nothing behind.
func TestCloseWaitsForAcquiresInFlight(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	entered, unblocked := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(unblocked) })
	t.Cleanup(unblock) // before the fixture's Close, even when the test fails
	enter := sync.OnceFunc(func() { close(entered) })
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		enter()
		<-unblocked
		return next()
	}})
	acquired := make(chan error, 1)
	go func() {
		sctx, rel, err := f.l.TryAcquire(ctxWithTimeout(t), "k", 1)
		if err == nil && (sctx == nil || rel == nil) {
			err = errors.New("nil context or release")
		}
		abandon(rel) // Close frees the slot, which is what the test checks
		acquired <- err
	}()
	recv(t, entered, waitAtOnce, "the TryAcquire sent nothing")
	closed := make(chan error, 1)
	go func() { closed <- f.l.Close() }()
	awaitCloseWaiting(t, closed, "an acquire")
	unblock()
	if err := recv(t, closed, waitAtOnce, "Close did not return once the acquire went through"); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := recv(t, acquired, waitAtOnce, "the TryAcquire in flight did not return"); err != redisslot.ErrClosed {
		t.Errorf("TryAcquire in flight during Close returned %v; want ErrClosed", err)
	}
	if n := len(members(t, srv.Client(t), testPrefix(t)+"{k}")); n != 0 {
		t.Errorf("%d members when Close has returned; want 0", n)
	}
}

// Promise 7: Close returns the failed frees joined, each naming its key.
func TestCloseReturnsFailuresJoined(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	errInjected := errors.New("test: free failed")
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return failWith(cmds, errInjected)
	}})
	ctx := ctxWithTimeout(t)
	holdAbandoned(t, f.l, ctx, "a", 1) // Close frees the slots, which is what the test checks
	holdAbandoned(t, f.l, ctx, "b", 1)
	err := f.l.Close()
	if !errors.Is(err, errInjected) {
		t.Fatalf("Close = %v; want the failed frees", err)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("Close = %v; want two errors joined", err)
	}
	for _, key := range []string{`"a"`, `"b"`} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("Close = %q; want it to name key %s", err, key)
		}
	}
}

// Promise 7: Close is safe to call twice and from several goroutines.
func TestCloseIsSafeTwiceAndFromManyGoroutines(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	holdAbandoned(t, f.l, ctxWithTimeout(t), "k", 1) // Close frees the slot
	var calls atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.l.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			calls.Add(1)
		}()
	}
	waitAll(t, &wg, waitAtOnce, "Close called from 8 goroutines did not return")
	if err := f.l.Close(); err != nil {
		t.Errorf("Close, once more: %v", err)
	}
	if n := len(members(t, srv.Client(t), testPrefix(t)+"{k}")); n != 0 {
		t.Errorf("%d members after Close; want 0", n)
	}
}

// awaitCloseWaiting returns once a goroutine running Close is parked
// waiting for what is in flight (what). A Close that does not wait sends
// on closed instead, and the test fails.
func awaitCloseWaiting(t *testing.T, closed <-chan error, what string) {
	t.Helper()
	deadline := time.After(waitAtOnce)
	for !blockedIn("redisslot.(*Limiter).close", "sync.WaitGroup.Wait") {
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) while %s was in flight", err, what)
		case <-deadline:
			t.Fatalf("Close did not wait for %s within %v", what, waitAtOnce)
		default:
			runtime.Gosched()
		}
	}
}

// blockedIn reports whether a goroutine running function fn is parked in
// state, as runtime.Stack prints it (e.g. "sync.WaitGroup.Wait").
func blockedIn(fn, state string) bool {
	for _, g := range goroutineStacks() {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "["+state) && strings.Contains(g, fn+"(") {
			return true
		}
	}
	return false
}

// goroutineStacks returns the stack of every goroutine.
func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// limiterGoroutines counts the goroutines running a Limiter's background
// code: the renewer, the entry renewer and the subscriber.
func limiterGoroutines() int {
	n := 0
	for _, g := range goroutineStacks() {
		for _, fn := range []string{"redisslot.(*renewer).run(", "redisslot.(*entryRenewer).run(", "redisslot.(*subscriber).run("} {
			if strings.Contains(g, fn) {
				n++
			}
		}
	}
	return n
}

// Promise 7: Close sends the frees still pending, those of released slots
// whose free failed included, before it returns.
func TestCloseSendsThePendingFrees(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // no renewal round during the test
	errInjected := errors.New("test: free failed")
	var failing atomic.Bool
	failing.Store(true)
	var failed atomic.Int32
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if failing.Load() {
			failed.Add(1)
			return failWith(cmds, errInjected)
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	for _, key := range []string{"a", "b"} {
		_, rel := mustTry(t, f.l, ctx, key, 1)
		rel()
	}
	eventually(t, "both frees fail", func() bool { return failed.Load() >= 1 && redisslot.Held(f.l) == 0 })
	failing.Store(false)
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, key := range []string{"a", "b"} {
		if zs := members(t, srv.Client(t), redisslot.SlotKey(f.l, key)); len(zs) != 0 {
			t.Errorf("members of %s after Close: %v; want none", key, zs)
		}
	}
}

// A fallback slot that no call has offered to Redis needs no free: Close,
// with Redis still down, sends none for it, and so has no failure to return.
func TestCloseSendsNoFreeForAFallbackSlotRedisNeverKnew(t *testing.T) {
	srv := redistest.Start(t)
	l := fbLimiter(t, srv, "", &errLog{})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	_, rel, err := l.TryAcquire(ctxWithTimeout(t), "k", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire with Redis down: %v; want a fallback slot", err)
	}
	defer rel() // after Close: does nothing
	if n := l.Stats().PendingFrees; n != 0 {
		t.Fatalf("%d frees pending after an acquire that never reached Redis; want 0", n)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close with Redis down and only a fallback slot Redis never knew: %v; want nil, as it has nothing to free", err)
	}
}

// ErrLeaseLost: "OnError hears of every lost lease of a held slot", also of
// one lost in the round that Close ends before its report.
func TestCloseReportsALeaseLostSinceTheLastReport(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // no round of its own, asked by its canary's first look, reports first
	// A slot of another key keeps the renewer from going idle, which
	// would report at once: the report waits for the next round.
	_, relOther := mustTry(t, f.l, ctxWithTimeout(t), "other", 1)
	defer relOther()
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	if err := srv.Client(t).Del(context.Background(), redisslot.SlotKey(f.l, "k")).Err(); err != nil {
		t.Fatal(err)
	}
	redisslot.RenewRound(f.l) // finds the slot gone; its report waits for the next round
	recv(t, sctx.Done(), waitAtOnce, "slot not lost at the round after its key was deleted")
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Fatalf("cause %v; want ErrLeaseLost", got)
	}
	if errs := f.errs.all(); len(errs) > 0 {
		t.Fatalf("OnError got %v before Close; want the round's report still waiting", errs)
	}
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !f.errs.has(redisslot.ErrLeaseLost) {
		t.Errorf("OnError got %v by the end of Close; want the lost lease reported", f.errs.all())
	}
}
