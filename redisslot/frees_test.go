package redisslot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// holdFrees makes every free sent through f's client wait until the
// returned function is called (also called when the test ends). entered
// gets a value for each free that starts waiting.
func holdFrees(t *testing.T, f *fixture) (entered <-chan struct{}, unblock func()) {
	t.Helper()
	in, unblocked := make(chan struct{}, 100), make(chan struct{})
	unblock = sync.OnceFunc(func() { close(unblocked) })
	t.Cleanup(unblock) // before the fixture's Close, even when the test fails
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		select {
		case in <- struct{}{}:
		default:
		}
		<-unblocked
		return next()
	}})
	return in, unblock
}

// A release followed at once by an acquire of the same key on the same
// Limiter is not refused because its own free has not reached Redis: the
// acquire removes a slot whose free is on its way in another call, so the
// key never counts more than its limit, and it still counts every other
// holder.
func TestAcquireRightAfterAReleaseIsNotRefusedForItsOwnFree(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	entered, unblock := holdFrees(t, f)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	recv(t, entered, waitAtOnce, "the release sent no free") // it is held up on its way
	_, rel2, err := f.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatalf("TryAcquire right after a release of the same key: %v; want a slot", err)
	}
	defer rel2()
	if _, _, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Errorf("second TryAcquire of a limit-1 key: %v; want ErrFull", err)
	}
	if n := inUse(t, f.l, "k"); n != 1 {
		t.Errorf("InUse = %d; want 1, the new holder", n)
	}
	unblock()
}

// errFreeFailed is a failure of a free that is an answer of Redis, not an
// outage: nothing probes Redis and sends the free again.
var errFreeFailed = errors.New("test: free failed")

// failFreesWhile makes f's free calls fail with errFreeFailed while fail is
// set, and tells of each failed call on the channel it returns (buffered;
// a call beyond its room is not told).
func failFreesWhile(f *fixture, fail *atomic.Bool) <-chan struct{} {
	failed := make(chan struct{}, 10)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if fail.Load() {
			sendOrDrop(failed, struct{}{})
			return failWith(cmds, errFreeFailed)
		}
		return next()
	}})
	return failed
}

// A free whose call failed waits again, and the next acquire of its key
// carries it: it removes the member first, and the free is not sent again.
func TestAcquireCarriesAFreeWhoseCallFailed(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var fail atomic.Bool
	fail.Store(true)
	var sent atomic.Int64
	failed := make(chan struct{}, 10)
	// Every free call counts, also one that a round sends behind a renewal.
	f.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		frees := 0
		for _, c := range cmds {
			if scriptOf(c) == redisslot.ReleaseHash {
				frees++
			}
		}
		if frees == 0 {
			return next()
		}
		sent.Add(int64(frees))
		if fail.Load() {
			sendOrDrop(failed, struct{}{})
			return failWith(cmds, errFreeFailed)
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	recv(t, failed, waitAtOnce, "the release sent no free")
	eventually(t, "the failed free waits again, no longer in flight", func() bool {
		return f.l.Stats().PendingFrees == 1 && redisslot.FreesInFlight(f.l) == 0
	})
	fail.Store(false)
	before := sent.Load()
	_, rel2 := mustTry(t, f.l, ctx, "k", 1)
	defer rel2()
	if n := inUse(t, f.l, "k"); n != 1 {
		t.Errorf("InUse = %d after an acquire carried the free; want 1, the new holder", n)
	}
	if n := f.l.Stats().PendingFrees; n != 0 {
		t.Errorf("%d frees pending after the acquire that carried the free succeeded; want 0", n)
	}
	redisslot.RenewNow(f.l)
	if n := sent.Load() - before; n != 0 {
		t.Errorf("the carried free was sent %d more times; want none", n)
	}
}

// A free whose call failed waits for the next renewal round: the sends
// at once that later releases kick carry only frees never sent, so a free
// that keeps failing does not go again with every release.
func TestFailedFreeWaitsForTheRoundNotTheNextRelease(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // the round of its canary's first confirmation is past
	var fail atomic.Bool
	fail.Store(true)
	failed := failFreesWhile(f, &fail)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "a", 1)
	rel()
	recv(t, failed, waitAtOnce, "the release sent no free")
	eventually(t, "the failed free waits again", func() bool {
		return f.l.Stats().PendingFrees == 1 && redisslot.FreesInFlight(f.l) == 0
	})
	fail.Store(false)
	_, rel = mustTry(t, f.l, ctx, "b", 1)
	rel()
	eventually(t, "the second release's free confirmed", func() bool { return inUse(t, f.l, "b") == 0 })
	eventually(t, "no free in flight", func() bool { return redisslot.FreesInFlight(f.l) == 0 })
	if n := f.l.Stats().PendingFrees; n != 1 {
		t.Errorf("%d frees pending after the second release's free; want 1: the failed free waits for the renewal round %v away", n, redisslot.RenewEvery(f.l))
	}
	if n := inUse(t, f.l, "a"); n != 1 {
		t.Errorf("InUse of the failed free's key = %d; want 1 until the round sends it again", n)
	}
}

// An uncontended acquire and release send two commands: the acquire, and
// the free the release hands to the Limiter. (A Limiter's first slot also
// subscribes to the restart canary, once.)
func TestUncontendedAcquireAndReleaseSendTwoCommands(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	warmUp(t, f.l)
	f.count.Reset()
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	raw := srv.Client(t) // looks from outside: its calls are not counted
	eventually(t, "the free arrives", func() bool { return len(members(t, raw, testPrefix(t)+"{k}")) == 0 })
	if got := f.count.Commands(); got != 2 {
		t.Errorf("acquire and release sent %d commands; want 2", got)
	}
}

// 100 acquires that fail after their command may have reached Redis leave
// no goroutine behind them, and OnError hears at most one report per key
// per renewal round, with the count, while their frees fail.
func TestFailedCallsLeaveNoGoroutinesAndOneReportPerKeyPerRound(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: time.Second})
	warmUp(t, f.l) // the subscriber the first slot starts, for the restart canary, stays
	before := goleak.IgnoreCurrent()
	errAcquire, errFree := errors.New("test: acquire lost"), errors.New("test: free failed")
	var freesFail atomic.Bool
	freesFail.Store(true)
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		_ = next() // it reached Redis, but the caller hears of a failure
		return failWith(cmds, errAcquire)
	}})
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if freesFail.Load() {
			return failWith(cmds, errFree)
		}
		return next()
	}})
	start := time.Now()
	for range 100 {
		if _, _, err := f.l.TryAcquire(ctxWithTimeout(t), "k", 1000); !errors.Is(err, errAcquire) {
			t.Fatalf("TryAcquire: %v; want the injected failure", err)
		}
	}
	eventually(t, "OnError hears of the failed frees", func() bool { return f.errs.has(errFree) })
	freesFail.Store(false)
	eventually(t, "the frees arrive", func() bool { return inUse(t, f.l, "k") == 0 })
	rounds := int(time.Since(start)/redisslot.RenewEvery(f.l)) + 2
	errs := f.errs.all()
	if len(errs) > rounds {
		t.Errorf("OnError got %d reports in %d rounds on one key; want at most one a round", len(errs), rounds)
	}
	for _, err := range errs {
		if !strings.Contains(err.Error(), `key "k": `) || !strings.Contains(err.Error(), "background calls failed") {
			t.Errorf("OnError got %q; want the key and the count of failures", err)
		}
	}
	eventually(t, "no goroutine left behind", func() bool { return goleak.Find(before) == nil })
}

// Close cancels the context of every held slot before it sends any free.
func TestCloseCancelsEveryContextBeforeTheFreesAreSent(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	var ctxs []context.Context
	for _, key := range []string{"a", "a", "b", "c"} {
		sctx, rel := mustTry(t, f.l, ctx, key, 2)
		defer rel()
		ctxs = append(ctxs, sctx)
	}
	var notDone atomic.Int32
	var sends atomic.Int32
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		sends.Add(1)
		for _, c := range ctxs {
			if c.Err() == nil {
				notDone.Add(1)
			}
		}
		return next()
	}})
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if sends.Load() == 0 {
		t.Fatal("Close sent no free")
	}
	if n := notDone.Load(); n != 0 {
		t.Errorf("Close sent frees while %d slot contexts were not yet done; want every one done first", n)
	}
}

// A release with Redis stalled (SIGSTOP) returns at once, although its
// free cannot get through for as long as Redis stays stopped, and the free
// arrives once Redis resumes.
func TestDeferredReleaseWithRedisStalledReturnsAtOnce(t *testing.T) {
	e, _ := newFaultEnv(t)
	e.stopped(t, func() {
		for range 2 {
			e.releaseOne(t)
		}
	})
	eventually(t, "the frees arrive after Redis resumes", func() bool { return inUse(t, e.l, faultKey) == 0 })
}

// The ghost slot of an acquire that timed out while Redis was stopped, its
// script still on the socket, is gone within Lease/2 of Redis resuming,
// even when the Limiter holds no slot: the renewer runs while frees are
// pending.
func TestGhostOfAStalledAcquireGoesWithNoSlotHeld(t *testing.T) {
	e, before := newFaultEnv(t)
	for range 2 {
		e.releaseOne(t)
	}
	eventually(t, "the frees arrive", func() bool { return inUse(t, e.l, faultKey) == 0 })
	resumed := e.stopped(t, func() { e.failedTry(t) })
	e.checkAfterFault(t, resumed)
	e.checkNothingLeftBehind(t, before)
}

// A free carried by an acquire that failed after it may have reached Redis
// was sent: it waits for the renewal round, as a failed free does, and
// does not go again with the send at once that the acquire's own unsure
// free kicks. Only an acquire that Redis refused whole (out of memory)
// leaves its frees unsent.
func TestFreeCarriedByAFailedAcquireWaitsForTheRound(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // the round of its canary's first confirmation is past
	var failFrees, failAcquires atomic.Bool
	failFrees.Store(true)
	var freesSent atomic.Int64
	failed := make(chan struct{}, 10)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if failFrees.Load() {
			sendOrDrop(failed, struct{}{})
			return failWith(cmds, errFreeFailed)
		}
		err := next()
		freesSent.Add(1)
		return err
	}})
	errAcquire := errors.New("test: acquire's reply lost")
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if !failAcquires.Load() {
			return next()
		}
		_ = next() // it reached Redis, but the caller hears of a failure
		return failWith(cmds, errAcquire)
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	recv(t, failed, waitAtOnce, "the release sent no free")
	eventually(t, "the failed free waits again, no longer in flight", func() bool {
		return f.l.Stats().PendingFrees == 1 && redisslot.FreesInFlight(f.l) == 0
	})
	failFrees.Store(false)
	failAcquires.Store(true)
	if _, rel, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, errAcquire) {
		if rel != nil {
			rel()
		}
		t.Fatalf("TryAcquire = %v; want the failure %v", err, errAcquire)
	}
	eventually(t, "the failed acquire's own free confirmed", func() bool {
		return freesSent.Load() > 0 && redisslot.FreesInFlight(f.l) == 0
	})
	if n := f.l.Stats().PendingFrees; n != 1 {
		t.Errorf("%d frees pending once the failed acquire's own free is confirmed; want 1: the free it carried waits for the round %v away",
			n, redisslot.RenewEvery(f.l))
	}
}
