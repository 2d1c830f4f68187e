package redisslot_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// allocLimiter returns a Limiter on the shared server with a client of its
// own and no hooks, as a user makes it, its scripts loaded and connections
// open.
func allocLimiter(t *testing.T) *redisslot.Limiter {
	t.Helper()
	srv := redistest.Shared(t)
	c := srv.Client(t)
	ctx := ctxWithTimeout(t)
	if err := redisslot.LoadScripts(ctx, c); err != nil {
		t.Fatalf("SCRIPT LOAD: %v", err)
	}
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: time.Minute})
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// spin polls cond without sleeping or allocating, failing t after
// waitAtOnce.
func spin(t *testing.T, what string, cond func() bool) {
	deadline := time.Now().Add(waitAtOnce)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", waitAtOnce, what)
		}
		runtime.Gosched()
	}
}

// settled reports whether l holds no slot, has no waiter and no pending
// free: the end of a slot's life, its free confirmed by Redis.
func settled(l *redisslot.Limiter) bool {
	st := l.Stats()
	return st.Held == 0 && st.Waiting == 0 && st.PendingFrees == 0
}

// Allocation ceilings of a slot's whole life, on a Limiter as a user makes
// it: acquire, release, and the free confirmed by Redis. They count every
// goroutine's allocations, go-redis's included (about a third of them).
// testing.AllocsPerRun runs with GOMAXPROCS 1, so the next acquire always
// carries the free of a release back to back. Counts seen, with and
// without -race, -cpu 1,2,4: 35 back to back, 65 for a free slot whose free
// goes on its own, 158 for a holder and a waiter.
const (
	maxAllocsBackToBack = 40  // TryAcquire of a free slot and its release, the free riding on the next
	maxAllocsFreeSlot   = 90  // TryAcquire of a free slot, release, free
	maxAllocsWaitedSlot = 270 // the same for a holder, and a waiter that gets its slot
)

func TestAllocsPerSlot(t *testing.T) {
	l := allocLimiter(t)
	ctx := ctxWithTimeout(t)
	free := func() {
		_, rel, err := l.TryAcquire(ctx, "free", 8)
		if err != nil {
			t.Fatal(err)
		}
		rel()
		spin(t, "the free confirmed", func() bool { return settled(l) })
	}
	waited := func() {
		_, hrel, err := l.TryAcquire(ctx, "waited", 1)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan func(), 1)
		go func() {
			_, rel, err := l.Acquire(ctx, "waited", 1)
			if err != nil {
				t.Error(err)
			}
			got <- rel
		}()
		spin(t, "a waiter", func() bool { return l.Stats().Waiting > 0 })
		hrel()
		var rel func()
		spin(t, "the waiter's Acquire returns", func() bool {
			select {
			case rel = <-got:
				return true
			default:
				return false
			}
		})
		if rel != nil {
			rel()
		}
		spin(t, "the frees confirmed", func() bool { return settled(l) })
	}
	for range 10 { // load the scripts, open the connections
		free()
		waited()
	}
	backToBack := func() {
		_, rel, err := l.TryAcquire(ctx, "back", 1)
		if err != nil {
			t.Fatal(err)
		}
		rel()
	}
	if got := testing.AllocsPerRun(200, backToBack); got > maxAllocsBackToBack {
		t.Errorf("an acquire and release back to back allocate %v times; want at most %d", got, maxAllocsBackToBack)
	} else {
		t.Logf("an acquire and release back to back: %v allocations (ceiling %d)", got, maxAllocsBackToBack)
	}
	spin(t, "the last free confirmed", func() bool { return settled(l) })
	if got := testing.AllocsPerRun(100, free); got > maxAllocsFreeSlot {
		t.Errorf("a free slot's life allocates %v times; want at most %d", got, maxAllocsFreeSlot)
	} else {
		t.Logf("a free slot's life: %v allocations (ceiling %d)", got, maxAllocsFreeSlot)
	}
	if got := testing.AllocsPerRun(50, waited); got > maxAllocsWaitedSlot {
		t.Errorf("a holder and a waiter allocate %v times; want at most %d", got, maxAllocsWaitedSlot)
	} else {
		t.Logf("a holder and a waiter: %v allocations (ceiling %d)", got, maxAllocsWaitedSlot)
	}
}
