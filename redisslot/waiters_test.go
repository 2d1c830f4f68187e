package redisslot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// The waiter helpers of these tests: queueAcquire and joinQueue start an
// Acquire that waits (counted by the Limiter, or in Redis's queue), and
// nextOutcome takes what it returned.

// An outcome is what one Acquire run on its own goroutine returned.
type outcome struct {
	who int
	at  time.Time // when Acquire returned
	rel func()
	err error
}

// queueAcquire runs Acquire on a goroutine and waits until it is queued as
// one more waiter of key on l. Its outcome goes to out.
func queueAcquire(t testing.TB, l *redisslot.Limiter, ctx context.Context, key string, limit, who int, out chan<- outcome) {
	t.Helper()
	before := redisslot.Waiters(l, key)
	go func() {
		_, rel, err := l.Acquire(ctx, key, limit)
		out <- outcome{who, time.Now(), rel, err}
	}()
	eventually(t, fmt.Sprintf("waiter %d queues", who), func() bool { return redisslot.Waiters(l, key) == before+1 })
}

// nextOutcome returns the next outcome from c, failing t after waitAtOnce.
func nextOutcome(t testing.TB, c <-chan outcome) outcome {
	t.Helper()
	return nextOutcomeWithin(t, c, waitAtOnce)
}

// nextOutcomeWithin returns the next outcome from c, failing t after bound.
func nextOutcomeWithin(t testing.TB, c <-chan outcome, bound time.Duration) outcome {
	t.Helper()
	return recv(t, c, bound, "no Acquire returned")
}

// waiting returns Load's Waiting count of key on l, failing t on an error.
func waiting(t testing.TB, l *redisslot.Limiter, key string) int {
	t.Helper()
	loads, err := l.Load(context.Background(), key)
	if err != nil {
		t.Fatalf("Load(%q): %v", key, err)
	}
	return loads[0].Waiting
}

// joinQueue runs Acquire on a goroutine and waits until the key's queue in
// Redis, by Load, has one more waiter: its entry is in line, behind every
// waiter that joined before.
func joinQueue(t testing.TB, l *redisslot.Limiter, ctx context.Context, key string, limit, who int, out chan<- outcome) {
	t.Helper()
	before := waiting(t, l, key)
	go func() {
		_, rel, err := l.Acquire(ctx, key, limit)
		out <- outcome{who, time.Now(), rel, err}
	}()
	eventually(t, fmt.Sprintf("waiter %d joins the queue", who), func() bool { return waiting(t, l, key) == before+1 })
}

// getsSlot takes an outcome from out within 5s, a bound far above a
// hand-off's milliseconds: it must hold a slot, which it frees. Otherwise
// it fails t, naming who, or saying lost why no slot came.
func getsSlot(t testing.TB, out <-chan outcome, who, lost string) {
	t.Helper()
	select {
	case o := <-out:
		if o.err != nil {
			t.Fatalf("%s: %v", who, o.err)
		}
		o.rel()
	case <-time.After(5 * time.Second):
		t.Fatal(lost)
	}
}
