package redisslot

import (
	"context"
	"time"
)

// A heldKey is the set of slots of one key that a Limiter holds.
type heldKey struct {
	key   string           // as the caller named it, for errors
	slots map[string]*slot // by member id
}

// A slot is one held slot: a member of a slot set in Redis.
type slot struct {
	l      *Limiter
	key    string // as the caller named it
	rkey   string // Redis key of the slot set
	member string
	cancel context.CancelCauseFunc

	// confirmed is when the last call that set the lease was sent, by the
	// local monotonic clock: the lease runs at least until confirmed+Lease.
	// Guarded by l.mu.
	confirmed time.Time
	// renewSent is when the last call that may set the lease was sent,
	// confirmed or not: the lease surely ends by renewSent+Lease. Guarded
	// by l.mu.
	renewSent time.Time

	obs slotObs // hook.go
}

// hold records s as held and starts the renewer if it is not running. The
// caller holds l.mu, and l is not closed.
func (l *Limiter) hold(s *slot) {
	hk := l.held[s.rkey]
	if hk == nil {
		hk = &heldKey{key: s.key, slots: make(map[string]*slot)}
		l.held[s.rkey] = hk
	}
	hk.slots[s.member] = s
	l.startRenewer()
}

// drop forgets s and reports whether it was held. Whoever drops a slot
// decides whether to free it in Redis. The caller holds l.mu.
func (l *Limiter) drop(s *slot) bool {
	hk := l.held[s.rkey]
	if hk == nil || hk.slots[s.member] != s {
		return false
	}
	delete(hk.slots, s.member)
	if len(hk.slots) == 0 {
		delete(l.held, s.rkey)
	}
	return true
}

// release is the function guarded by a slot's release: it runs once. It
// cancels the slot's context, forgets the slot, and puts its member on the
// Limiter's pending frees, which the renewer sends at once, without
// waiting for Redis. It does nothing more when the slot was already
// dropped: lost (its member is gone or its lease has ended) or taken by
// Close, which frees it itself.
func (s *slot) release() {
	s.cancel(nil) // cause context.Canceled, unless the context is already done
	l := s.l
	l.mu.Lock()
	freed := l.drop(s)
	if freed {
		l.addPending(s.key, s.rkey, s.member, s.renewSent.Add(l.lease), false)
	}
	l.mu.Unlock()
	if freed {
		l.slotEnded(s)                       // hook.go
		l.waiting.nudge(wakeChannel(s.rkey)) // waiting.go
	}
}
