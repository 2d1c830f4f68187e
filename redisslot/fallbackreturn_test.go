package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Callers waiting in a key's fallback line when Redis comes back: the
// adoption round writes the fallback slots into Redis and, for each, hands
// the share it frees to the next waiter as a new fallback slot, unknown to
// Redis, which the next round adopts above the limit. The key's holders
// must stay within the limit once Redis answers.
func TestFallbackLineAtRedisReturnAdmitsNoMoreThanTheLimit(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	l := fbLimiter(t, srv, "", &errLog{})
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for range fbShare { // the share, held through the return
		_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis down: %v", err)
		}
		t.Cleanup(rel)
	}
	const callers = 2 * fbLimit // each, once served, holds its slot to the end
	got := make(chan func(), callers)
	wctx, stopWaiting := context.WithCancel(ctx)
	defer stopWaiting()
	for range callers {
		go func() {
			_, rel, _ := l.Acquire(wctx, "k", fbLimit)
			got <- rel
		}()
	}
	eventually(t, "the callers wait in the fallback line", func() bool { return l.Stats().Waiting == callers })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Watch the key for four rounds after Redis answers again.
	most, window := 0, time.Now().Add(4*redisslot.RenewEvery(l))
	for time.Now().Before(window) && most <= fbLimit {
		most = max(most, inUse(t, l, "k"))
		time.Sleep(pollInterval)
	}
	if most > fbLimit {
		st := l.Stats()
		t.Errorf("InUse reached %d once Redis answered again (Degraded %v, FallbackAcquired %d); want at most the limit, %d",
			most, st.Degraded, st.FallbackAcquired, fbLimit)
	}
	stopWaiting()
	for range callers {
		if rel := recv(t, got, waitAtOnce, "a caller returns"); rel != nil {
			rel()
		}
	}
}

// Under load that keeps the fallback line from emptying, the fallback
// state must still end within a round of Redis answering: "the next
// renewal round writes every live fallback slot into its key's slot set
// ... and the state ends".
func TestFallbackStateEndsUnderSteadyLoad(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	l := fbLimiter(t, srv, "", &errLog{})
	ctx := ctxWithTimeout(t)
	lctx, stop := context.WithCancel(ctx)
	var served atomic.Int64
	done := make(chan struct{})
	const callers = 3 * fbShare
	for range callers {
		go func() {
			defer func() { done <- struct{}{} }()
			for lctx.Err() == nil {
				_, rel, err := l.Acquire(lctx, "k", fbLimit)
				if err != nil {
					continue
				}
				served.Add(1)
				select { // the work the slot guards: longer than a round
				case <-lctx.Done():
				case <-time.After(redisslot.RenewEvery(l) + redisslot.RenewEvery(l)/2):
				}
				rel()
			}
		}()
	}
	defer func() {
		stop()
		for range callers {
			recv(t, done, waitAtOnce, "a caller ends")
		}
	}()
	eventually(t, "load on Redis", func() bool { return served.Load() >= callers })
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fallback share serves", func() bool { return l.Stats().FallbackAcquired >= 2*fbShare })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	bound := waitAfter(redisslot.RenewEvery(l))
	for l.Stats().Degraded {
		if time.Since(back) > bound {
			st := l.Stats()
			t.Fatalf("the fallback state is still on %v after Redis came back (FallbackAcquired %d); want it ended within a round, %v",
				bound, st.FallbackAcquired, redisslot.RenewEvery(l))
		}
		time.Sleep(pollInterval)
	}
}

// Options.Fallback: "0 or less admits nothing: the call returns Redis's
// error".
func TestFallbackShareOfZeroReturnsRedisError(t *testing.T) {
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: fbLease, OnError: func(error) {},
		Fallback: func(key string, limit int) int {
			if key == "none" {
				return 0
			}
			return 1
		}})
	t.Cleanup(func() { _ = l.Close() })
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.TryAcquire(ctx, "none", fbLimit); err == nil || errors.Is(err, redisslot.ErrFull) {
		t.Errorf("TryAcquire of a key whose share is 0, Redis down: %v; want Redis's error", err)
	}
	// At once: long before the call's deadline, which a call waiting in a
	// line would reach (the bound is loose, for a loaded machine).
	const deadline = 10 * time.Second
	actx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	start := time.Now()
	_, rel, err := l.Acquire(actx, "none", fbLimit)
	if rel != nil {
		rel()
	}
	if took := time.Since(start); err == nil || errors.Is(err, context.DeadlineExceeded) || took > deadline/2 {
		t.Errorf("Acquire of a key whose share is 0, Redis down: %v after %v; want Redis's error at once", err, took.Round(time.Millisecond))
	}
}

// A fallback slot is unknown to Redis until it is adopted: releasing it
// while Redis is down leaves nothing to free. The pending frees must not
// grow with every fallback slot taken and released during an outage.
func TestFallbackReleasesDoNotPileUpAsPendingFrees(t *testing.T) {
	srv := redistest.Start(t)
	l := fbLimiter(t, srv, "", &errLog{})
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	for i := range n {
		_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire %d: %v", i, err)
		}
		rel()
	}
	if p := l.Stats().PendingFrees; p > fbShare+1 {
		t.Errorf("after %d fallback slots taken and released with Redis down: %d pending frees; want at most the share and the call that met the outage", n, p)
	}
}

// fbLoad cancels each Acquire's ctx as soon as Acquire returns, and a
// slot's context is a child of it: every slot ends at once, so the ledger
// that the fallback tests check never sees a live holder.
func TestFbLoadLedgerSeesLiveHolders(t *testing.T) {
	srv := redistest.Start(t)
	ls := []*redisslot.Limiter{fbLimiter(t, srv, "", &errLog{}), fbLimiter(t, srv, "", &errLog{})}
	var most atomic.Int64
	check := func(l *redisslot.Limiter, mine, all int) {
		for m := most.Load(); int64(all) > m && !most.CompareAndSwap(m, int64(all)); m = most.Load() {
		}
	}
	ctx, stop := context.WithCancel(ctxWithTimeout(t))
	served, wait := fbLoad(t, ctx, ls, &fbLedger{}, check)
	eventually(t, "load", func() bool { return served.Load() > 200 })
	stop()
	wait()
	if most.Load() < 2 {
		t.Errorf("the ledger counted at most %d live holders at an admission, under %d callers of a limit-%d key; want it to see them", most.Load(), 4*fbLimit, fbLimit)
	}
}

// A fallback slot released while the round that writes it into Redis is on
// its way is freed, not adopted: that round takes off the key's share only
// the slots it adopted. Taken off twice, the share's count would fall
// below zero and the fallback state never end, leaving a caller in the
// key's fallback line to wait while Redis has room for it.
func TestFallbackSlotReleasedWhileItsAdoptionIsOnItsWayLeavesTheShareOnce(t *testing.T) {
	srv := redistest.Start(t)
	// Redis comes back empty: the round loads the adopt script, which this holds up.
	p := newDelayProxy(t, srv.Addr, 2*time.Second, true, func(b []byte) bool {
		return containsAll(b, "local gone = redis.pcall('ZMSCORE'")
	})
	o := srv.Options()
	o.Addr, o.MaxRetries = p.addr, -1
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: 3 * fbLease, OnError: func(error) {}, // rounds outlast the hold
		Fallback: func(string, int) int { return 2 },
	})
	t.Cleanup(func() { _ = l.Close() })
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	var rels [2]func()
	for i := range rels {
		_, rel, err := l.TryAcquire(ctx, "k", 2)
		if err != nil {
			t.Fatalf("TryAcquire %d with Redis down: %v; want a fallback slot", i, err)
		}
		rels[i] = rel
	}
	defer rels[1]()
	result := waitingAcquire(t, ctx, l, "k", 2)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the adoption round is on its way", p.matched.Load)
	rels[0]()
	if p.answered.Load() {
		t.Fatal("the adoption round was answered before the release; want it held up")
	}
	eventually(t, "the fallback state ended", func() bool { return !l.Stats().Degraded })
	if err := recv(t, result, waitAtOnce, "the caller in the fallback line returns"); err != nil {
		t.Errorf("the caller in the fallback line: %v; want a slot from Redis, which has room", err)
	}
}
