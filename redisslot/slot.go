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
	// end runs once, when the holder releases the slot: the Limiter's
	// part of a release, given to the slot when it was made.
	end func(*holding)

	// set is when the last acquire or renewal of its lease that Redis
	// confirmed was sent, by the local monotonic clock; the slot's context
	// ends by set plus the clock's life. Guarded by the lease clock's mu.
	set time.Time
	// fallback marks a slot admitted while Redis could not be reached,
	// which Redis does not know yet: it has no lease to lose. Guarded by
	// the lease clock's mu.
	fallback bool

	obs slotObs // for its SlotEvent
}

// release is the function guarded by a slot's release, which runs it once:
// it cancels the slot's context, then hands the slot to its Limiter, which
// frees it without waiting for Redis.
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
