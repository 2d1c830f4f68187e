package redisslot_test

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// handoffSlack is what a loaded machine may add to the retry interval
// before a waiting instance takes a freed slot.
const handoffSlack = time.Second

// Issue 11, proof 4: with limit 1, 20 waiters on two instances each get the
// slot once, and each releases soon after it acquires. After every release
// some waiter takes the slot within the retry interval: through the
// release's wake-up, or, when every wake-up message is dropped, through the
// oldest waiters' retry timers.
func TestTwentyWaitersOnTwoInstancesEachGetTheSlotOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		// The Lease sets the retry interval, min(Lease/3, 1s): long where
		// wake-ups must beat it by far, short where timers do the work.
		lease time.Duration
		drop  bool
	}{
		{"wake-ups", 3 * time.Second, false},
		{"every wake-up dropped", time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := redistest.Shared(t)
			prefix := testPrefix(t)
			opts := redisslot.Options{Prefix: prefix, Lease: tc.lease}
			h := newFixture(t, srv, opts)
			a := newFixture(t, srv, opts)
			b := newFixture(t, srv, opts)
			var dropped atomic.Int64
			if tc.drop {
				drop := func(string) bool { dropped.Add(1); return true }
				redisslot.SetDropWake(a.l, drop)
				redisslot.SetDropWake(b.l, drop)
			}
			retry := redisslot.RetryInterval(a.l)
			ctx := ctxWithTimeout(t)

			_, rel := mustTry(t, h.l, ctx, "k", 1)
			const perInstance = 10
			out := make(chan outcome, 2*perInstance)
			for i := range perInstance {
				queueAcquire(t, a.l, ctx, "k", 1, i, out)             // 0..9 on a
				queueAcquire(t, b.l, ctx, "k", 1, perInstance+i, out) // 10..19 on b
			}

			var gaps []time.Duration
			var order []int
			freed := time.Now()
			rel()
			for range 2 * perInstance {
				o := nextOutcome(t, out)
				if o.err != nil {
					t.Fatalf("waiter %d: %v", o.who, o.err)
				}
				gaps = append(gaps, o.at.Sub(freed))
				order = append(order, o.who)
				if n := inUse(t, a.l, "k"); n != 1 {
					t.Errorf("InUse = %d while waiter %d holds the slot; want 1", n, o.who)
				}
				freed = time.Now()
				o.rel()
			}

			// Wake-ups go to the oldest waiters, but two woken on one
			// instance (two frees heard before the first ran) race each
			// other in Redis; so the order is logged, not checked.
			seen := map[int]bool{}
			overtaken := 0
			for i, who := range order {
				if seen[who] {
					t.Errorf("waiter %d got the slot twice", who)
				}
				seen[who] = true
				for _, later := range order[i+1:] {
					if later < who && (later < perInstance) == (who < perInstance) {
						overtaken++
					}
				}
			}
			if len(seen) != 2*perInstance {
				t.Errorf("%d waiters got the slot; want %d", len(seen), 2*perInstance)
			}
			sorted := slices.Sorted(slices.Values(gaps))
			median, most := sorted[len(sorted)/2], sorted[len(sorted)-1]
			t.Logf("20 hand-offs on two instances (retry interval %v, %d wake-ups dropped): median %v, most %v; order %v (%d overtaken by a younger waiter of their instance)",
				retry, dropped.Load(), median.Round(time.Microsecond), most.Round(time.Microsecond), order, overtaken)
			for i, g := range gaps {
				if g > retry+handoffSlack {
					t.Errorf("hand-off %d took %v; want within the retry interval %v (+%v slack)", i, g, retry, handoffSlack)
				}
			}
			if tc.drop {
				if dropped.Load() == 0 {
					t.Errorf("no wake-up was dropped; the test proves nothing")
				}
				if median > retry {
					t.Errorf("median hand-off %v with wake-ups dropped; want within the retry interval %v", median, retry)
				}
			} else if median > retry/10 {
				t.Errorf("median hand-off %v; want wake-ups well within the retry interval %v (< %v)", median, retry, retry/10)
			}
		})
	}
}

// Issue 11, proof 4: a waiter woken for a slot that a waiter on another
// instance takes first waits again, and a slot freed later still reaches it
// within the retry interval when that later wake-up is dropped.
func TestDroppedWakeUpAfterALostRaceStillHandsTheSlotOn(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	opts := redisslot.Options{Prefix: prefix, Lease: testLease}
	h := newFixture(t, srv, opts)
	a := newFixture(t, srv, opts)
	b := newFixture(t, srv, opts)
	ctx := ctxWithTimeout(t)
	retry := redisslot.RetryInterval(a.l)

	_, rel := mustTry(t, h.l, ctx, "k", 1)
	// Only waiters send EVALSHA from a and b from here on: the acquire
	// script.
	a.count.Reset()
	b.count.Reset()
	outA := make(chan outcome, 1)
	outB := make(chan outcome, 1)
	queueAcquire(t, a.l, ctx, "k", 1, 0, outA)
	queueAcquire(t, b.l, ctx, "k", 1, 1, outB)

	// Both hear the first release; one takes the slot, the other loses the
	// race and waits again. The second release's wake-up is dropped.
	rel()
	var first, loser outcome
	var loserOut chan outcome
	select {
	case first = <-outA:
		loserOut = outB
	case first = <-outB:
		loserOut = outA
	case <-time.After(waitLong):
		t.Fatalf("no waiter took the slot within %v of its release", waitLong)
	}
	if first.err != nil {
		t.Fatalf("waiter %d: %v", first.who, first.err)
	}
	waitingOn, loserCount := a.l, a.count
	if loserOut == outB {
		waitingOn, loserCount = b.l, b.count
	}
	before := loserCount.ByName("evalsha")
	select {
	case loser = <-loserOut:
		t.Fatalf("waiter %d returned (%v) while the other held the only slot", loser.who, loser.err)
	default:
	}
	// The loser's tries so far: one before queueing, one when subscribed,
	// one on the first release's wake-up.
	eventually(t, "the loser tries for the first release's slot", func() bool { return loserCount.ByName("evalsha") >= 3 })
	t.Logf("the loser sent %d acquire calls by the time the other took the slot", before)
	var dropped atomic.Int64
	redisslot.SetDropWake(waitingOn, func(string) bool { dropped.Add(1); return true })
	freed := time.Now()
	first.rel()
	loser = nextOutcome(t, loserOut)
	if loser.err != nil {
		t.Fatalf("waiter %d: %v", loser.who, loser.err)
	}
	defer loser.rel()
	took := loser.at.Sub(freed)
	t.Logf("waiter %d lost the race to waiter %d, then took the slot %v after a release whose wake-up was dropped (%d dropped; retry interval %v)",
		loser.who, first.who, took.Round(time.Microsecond), dropped.Load(), retry)
	if dropped.Load() == 0 {
		t.Errorf("no wake-up was dropped; the test proves nothing")
	}
	if took > retry+handoffSlack {
		t.Errorf("slot taken %v after its release; want within the retry interval %v (+%v slack)", took, retry, handoffSlack)
	}
}
