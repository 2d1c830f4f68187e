package redisslot_test

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The tests of this file hold up one call of a Limiter on its connection
// while its other connections go on, so that Redis runs the call after the
// free that was meant to undo it, and check that no slot is left with no
// holder: "no ghost slot, whichever of the two Redis runs first".

const ghostLease = 3 * time.Second

// ghostSetup returns a Limiter whose client goes through p (short timeouts,
// retries as given, the hooks given; Lease ghostLease unless set), and a
// fixture on srv sharing its keys.
func ghostSetup(t *testing.T, srv *redistest.Server, p *delayProxy, retries int, opts redisslot.Options, hooks ...redis.Hook) (*redisslot.Limiter, *fixture) {
	t.Helper()
	ctx := ctxWithTimeout(t)
	if err := redisslot.LoadScripts(ctx, srv.Client(t)); err != nil {
		t.Fatal(err)
	}
	if err := redisslot.LoadAdopt(ctx, srv.Client(t)); err != nil {
		t.Fatal(err)
	}
	o := srv.Options()
	o.Addr = p.addr
	o.ContextTimeoutEnabled = true
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	o.MaxRetries = retries
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	for _, h := range hooks {
		c.AddHook(h)
	}
	opts.Prefix, opts.OnError = testPrefix(t), func(error) {}
	if opts.Lease == 0 {
		opts.Lease = ghostLease
	}
	l := redisslot.New(c, opts)
	t.Cleanup(func() { _ = l.Close() })
	return l, newFixture(t, srv, redisslot.Options{Prefix: opts.Prefix, Lease: ghostLease})
}

// checkKeyFree waits until Redis has answered the held call, then checks
// that the key, which nobody holds, is free.
func checkKeyFree(t *testing.T, p *delayProxy, other *fixture, what string) {
	t.Helper()
	eventually(t, "Redis answers the held call", p.answered.Load)
	if n := inUse(t, other.l, "k"); n != 0 {
		t.Errorf("after %s: InUse = %d with no holder on any instance; want 0", what, n)
	}
	if _, rel, err := other.l.TryAcquire(ctxWithTimeout(t), "k", 1); err != nil {
		t.Errorf("after %s: TryAcquire of a key nobody holds: %v; want a slot", what, err)
	} else {
		rel()
	}
}

// A waiter's try (mode "wait") that times out is freed as unsure: its free
// takes its place out of line and leaves a tombstone. Held up on its
// connection, the try runs after that free; it must be refused.
func TestWaitTryRunAfterItsFreeLeavesNoGhost(t *testing.T) {
	srv := redistest.Start(t)
	p := newDelayProxy(t, srv.Addr, time.Second, true, func(b []byte) bool {
		return containsAll(b, redisslot.AcquireHash, "\r\nwait\r\n")
	})
	l, other := ghostSetup(t, srv, p, -1, redisslot.Options{})
	ctx := ctxWithTimeout(t)
	_, relHolder, err := other.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	result := waitingAcquire(t, ctx, l, "k", 1)
	relHolder() // wakes the waiter, whose try is held up
	if err := recv(t, result, waitAtOnce, "the waiter's Acquire returns"); err == nil {
		t.Fatal("the waiter got its slot; want its try to time out")
	}
	eventually(t, "the waiter's free confirmed", func() bool { return l.Stats().PendingFrees == 0 })
	checkKeyFree(t, p, other, "the timed-out wait try ran after its free")
}

// The adoption of a fallback slot may run after the slot's free: held up
// on its connection while the slot is released or freed by Close, or sent
// again by the next round (the held copy still on its way) and the slot
// released once that one is confirmed. Every free of a fallback slot
// leaves a tombstone: the held adoption, run after it, must not write the
// member back.
func TestAdoptionRunAfterTheFreeLeavesNoGhost(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	for _, by := range []string{"release", "Close", "release after a second adoption"} {
		t.Run("by="+by, func(t *testing.T) {
			srv := redistest.Start(t)
			p := newDelayProxy(t, srv.Addr, 3*time.Second, true, func(b []byte) bool {
				return containsAll(b, redisslot.AdoptHash)
			})
			l, other := ghostSetup(t, srv, p, -1, redisslot.Options{Fallback: func(string, int) int { return 1 }})
			rel := fallbackSlotOfAStoppedServer(t, srv, l)
			defer rel()
			eventually(t, "the adoption is sent", p.matched.Load)
			ended := func() bool { st := l.Stats(); return st.PendingFrees == 0 && !st.Degraded }
			switch by {
			case "Close": // it sends its frees before it returns
				if err := l.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			case "release after a second adoption":
				eventually(t, "a second adoption confirmed: the fallback state ended", ended)
				if p.answered.Load() {
					t.Fatal("the held adoption ran before the second one; want it held up")
				}
				rel()
				eventually(t, "the free confirmed", ended)
			default:
				rel()
				eventually(t, "the free confirmed and the fallback state ended", ended)
			}
			checkKeyFree(t, p, other, "the held adoption ran after the free by "+by)
		})
	}
}

// A fallback slot, once adopted, that loses its lease by the clock is
// freed as unsure, as its release would be: a copy of its adoption held up
// since before the one Redis confirmed, run after that free, must not
// write the member back.
func TestAdoptionRunAfterTheFreeOfALostLeaseLeavesNoGhost(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	p := newDelayProxy(t, srv.Addr, 9*time.Second, true, func(b []byte) bool {
		return containsAll(b, redisslot.AdoptHash)
	})
	l, other := ghostSetup(t, srv, p, -1, redisslot.Options{Fallback: func(string, int) int { return 1 }})
	pid := srv.Pid()
	stop := func() {
		t.Helper()
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	cont := func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(cont)
	stop()
	sctx, rel, err := l.TryAcquire(ctxWithTimeout(t), "k", 1)
	if err != nil {
		t.Fatalf("TryAcquire with Redis stopped: %v; want a fallback slot", err)
	}
	defer rel()
	cont()
	eventually(t, "the adoption is sent", p.matched.Load)
	eventually(t, "a second adoption confirmed: the fallback state ended", func() bool { return !l.Stats().Degraded })
	stop() // no renewal gets through: the clock ends the slot
	recv(t, sctx.Done(), waitAfter(redisslot.Life(l)), "the adopted slot was not lost")
	cont()
	eventually(t, "the lost slot's free confirmed", func() bool { return l.Stats().PendingFrees == 0 })
	if p.answered.Load() {
		t.Fatal("the held adoption ran before the free; want it held up")
	}
	checkKeyFree(t, p, other, "the held adoption ran after the free of a lost lease")
}

// go-redis sends a command again after a read timeout (MaxRetries, 1 in the
// package documentation's client). Were an acquire sent again, its first
// send could run after the free of the slot the second one took, and its
// release would be a plain free. The Limiter sends an acquire once: a
// TryAcquire whose send is held up fails with the timeout, its free leaves
// a tombstone, and the held send, run after that free, is refused.
func TestRetriedAcquireRunAfterTheFreeLeavesNoGhost(t *testing.T) {
	srv := redistest.Start(t)
	var sends atomic.Int32
	p := newDelayProxy(t, srv.Addr, time.Second, true, func(b []byte) bool {
		if !containsAll(b, redisslot.AcquireHash, "\r\ntry\r\n") {
			return false
		}
		sends.Add(1)
		return true
	})
	l, other := ghostSetup(t, srv, p, 1, redisslot.Options{})
	if _, rel, err := l.TryAcquire(ctxWithTimeout(t), "k", 1); err == nil {
		rel()
		t.Error("TryAcquire whose one send is held up got a slot; want its read timeout")
	}
	eventually(t, "the free confirmed", func() bool { return l.Stats().PendingFrees == 0 })
	checkKeyFree(t, p, other, "the held send of an acquire ran after its free")
	if n := sends.Load(); n != 1 {
		t.Errorf("the acquire was sent %d times with MaxRetries 1; want once", n)
	}
}

// The free of a fallback slot is unsure, and an acquire leaves it alone (it
// carries only plain frees): released while a waiter here is first in
// line, it is sent at once, not left for the waiter's try (refused for
// want of it) and the next round, Lease/3 away.
func TestReleasedFallbackSlotIsFreedAtOnceForAWaiter(t *testing.T) {
	srv := redistest.Start(t)
	p := newDelayProxy(t, srv.Addr, 0, true, func([]byte) bool { return false })
	l, _ := ghostSetup(t, srv, p, -1, redisslot.Options{Lease: time.Minute, Fallback: func(string, int) int { return 1 }})
	ctx := ctxWithTimeout(t)
	rel := fallbackSlotOfAStoppedServer(t, srv, l)
	defer rel()
	eventually(t, "the fallback slot adopted: the fallback state ended", func() bool { return !l.Stats().Degraded })
	result := waitingAcquire(t, ctx, l, "k", 1)
	rel()
	if err := recv(t, result, waitAtOnce, "the waiter's Acquire returns (the next round is 20s away)"); err != nil {
		t.Fatalf("the waiter's Acquire: %v; want the slot", err)
	}
}

// fallbackSlotOfAStoppedServer stops srv (SIGSTOP), takes a fallback slot
// of "k" (limit 1) on l, and resumes srv (a cleanup of t resumes it too,
// should the take fail). It returns the slot's release.
func fallbackSlotOfAStoppedServer(t *testing.T, srv *redistest.Server, l *redisslot.Limiter) func() {
	t.Helper()
	pid := srv.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	cont := func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(cont)
	_, rel, err := l.TryAcquire(ctxWithTimeout(t), "k", 1)
	if err != nil {
		t.Fatalf("TryAcquire with Redis stopped: %v; want a fallback slot", err)
	}
	cont()
	return rel
}
