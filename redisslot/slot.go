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
	shared bool           // taken from the fallback share (see freeKind)

	// Guarded by the lease clock's mu.
	set      time.Time // when the last acquire or renewal Redis confirmed was sent
	fallback bool      // Redis does not know the slot yet: it has no lease to lose
	offered  bool      // a fallback slot that an adopt call carried: Redis may know it

	obs slotObs // for its SlotEvent
}

// release is what a slot's guard runs, once: it cancels the slot's context,
// then hands the slot to its Limiter.
func (s *holding) release() {
	s.cancel(nil) // cause context.Canceled, unless the context is already done
	s.end(s)
}

// freeKind says how s is freed. A fallback-share slot is unsure, adopted or
// not: its adoption may be on its way or sent more than once (each round
// resends it until Redis confirms one), and a copy may run after the free.
func (s *holding) freeKind() freeKind {
	if s.shared {
		return freeUnsure
	}
	return freeSlot
}

// slotObs is what a slot keeps for its SlotEvent.
type slotObs struct {
	ctx    context.Context // the slot's context, whose cause tells its end
	parent context.Context // the acquiring ctx
	taken  time.Time       // when its acquire was sent
}
