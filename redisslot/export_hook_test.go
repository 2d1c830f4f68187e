package redisslot

import (
	"context"
	"time"
)

// EmitAll returns a function that records one event of each kind on l, as
// the Limiter's calls, slots and renewer do: an acquire that returned err,
// a slot ended, a lease lost (with its slot's end), a waiter that joined
// and left, and, if round, a renewal round of two calls. It builds its
// inputs once, so that the returned function measures the emit path alone.
func EmitAll(l *Limiter, err error, round bool) func() {
	ctx := context.Background()
	sctx, cancel := context.WithCancelCause(ctx)
	cancel(nil)
	s := &holding{ref: &keyRef{key: "k"}, obs: slotObs{ctx: sctx, parent: ctx, taken: time.Now()}}
	renewals := []renewal{{call: call{keys: []string{"a"}}}, {call: call{keys: []string{"b"}}}}
	start := time.Now()
	return func() {
		l.emit.acquireEnded(ctx, "k", start, err, false, false)
		l.emit.slotEnded(s)
		l.emit.leaseLost(s)
		l.emit.waiterJoined("k")
		l.emit.waiterLeft("k")
		if round {
			l.emit.renewalRound(renewals, start, 0, false)
		}
	}
}

// LocksFree reports whether l's locks can all be taken, trying for up to a
// second: a hook called with one of them held by its caller sees false,
// while a lock held for a moment by another goroutine is waited out.
func LocksFree(l *Limiter) bool {
	deadline := time.Now().Add(time.Second)
	for _, mu := range []interface {
		TryLock() bool
		Unlock()
	}{&l.mu, &l.waiting.mu, &l.clock.mu, &l.frees.mu, &l.renewer.mu, &l.renewer.roundMu, &l.health.mu, &l.trouble.mu, &l.sub.mu, &l.entries.mu} {
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
