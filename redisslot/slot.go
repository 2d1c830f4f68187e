package redisslot

import (
	"context"
	"time"
)

// A holding is one held slot: a member of its key's slot set in Redis.
type holding struct {
	ref    *keyRef
	member string
	cancel context.CancelCauseFunc
	end    func(*holding) // the Limiter's part of a release

	// Guarded by the lease clock's mu: set is when the last acquire or
	// renewal that Redis confirmed was sent; fallback marks a slot Redis
	// does not know yet, which has no lease to lose; offered, a fallback
	// slot that an adopt call carried, which Redis may know.
	set      time.Time
	fallback bool
	offered  bool

	obs slotObs // for its SlotEvent
}

// release is what a slot's guard runs, once: it cancels the slot's context,
// then hands the slot to its Limiter.
func (s *holding) release() {
	s.cancel(nil) // cause context.Canceled, unless the context is already done
	s.end(s)
}

// slotObs is what a slot keeps for its SlotEvent.
type slotObs struct {
	ctx    context.Context // the slot's context, whose cause tells its end
	parent context.Context // the acquiring ctx
	taken  time.Time       // when its acquire was sent
}
