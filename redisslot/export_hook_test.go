package redisslot

import (
	"context"
	"time"
)

// EmitAll returns a function that records one event of each kind on l, as
// the Limiter's calls, slots and renewer do: an acquire that returned err,
// a slot ended, a lease lost (with its slot's end), a waiter that joined
// and left, and, if renewal, a renewal round of two calls. It builds its
// inputs once, so that the returned function measures the emit path alone.
func EmitAll(l *Limiter, err error, renewal bool) func() {
	ctx := context.Background()
	sctx, cancel := context.WithCancelCause(ctx)
	cancel(nil)
	s := &slot{l: l, key: "k", obs: slotObs{ctx: sctx, parent: ctx, taken: time.Now()}}
	calls := []call{{keys: []string{"a"}}, {keys: []string{"b"}}}
	start := time.Now()
	return func() {
		e := err
		l.acquireEnded(ctx, "k", start, &e)
		l.slotEnded(s)
		l.leaseLost(s)
		l.waiterJoined("k")
		l.waiterLeft("k")
		if renewal {
			l.renewalRound(calls, start, 0)
		}
	}
}

// LocksFree reports whether l's locks (mu, waiting.mu, renewMu) can all be taken,
// trying for up to a second: a hook called with one of them held by its
// caller sees false, while a lock held for a moment by another goroutine
// is waited out.
func LocksFree(l *Limiter) bool {
	deadline := time.Now().Add(time.Second)
	for _, mu := range []interface {
		TryLock() bool
		Unlock()
	}{&l.mu, &l.waiting.mu, &l.renewMu} {
		for !mu.TryLock() {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
		}
		mu.Unlock()
	}
	return true
}
