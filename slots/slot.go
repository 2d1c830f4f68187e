package slots

import (
	"context"

	"github.com/ctxguard/release"
)

// A slot is one held slot of a key.
type slot struct {
	l          *Local
	k          *keyState // nil once freed or taken back by Close
	ctx        context.Context
	cancel     context.CancelCauseFunc
	prev, next *slot // in k.slots
}

// hold counts a new slot of k for a caller whose context is ctx, and links
// it into k's held slots, so that Close can take it back. The slot's
// context is made here, under l.mu, so that Close always finds it set.
// l.mu must be held.
func (l *Local) hold(k *keyState, ctx context.Context) *slot {
	s := &slot{l: l, k: k}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	k.held++
	s.next = k.slots
	if k.slots != nil {
		k.slots.prev = s
	}
	k.slots = s
	return s
}

// guard returns the release of s, whose caller's context is ctx: a guard
// that frees s exactly once, when called or when ctx is done. It is
// registered on ctx, not on s.ctx: s.ctx ends only when ctx does, when the
// guard runs, or when Close takes s back, and after Close the guard has
// nothing left to do. This saves s.ctx a registration of its own, and,
// for a ctx that is never done, registers nothing at all.
func (s *slot) guard(ctx context.Context) func() {
	return release.WrapOnDoneCause(ctx, s.free)
}

// free ends s's context, with cause, or context.Canceled if cause is nil
// (a call of the release), unless it has already ended. Then, unless
// Close took s back, it frees s and hands the slot on to the waiters it
// now admits. It runs once per slot: from the guard, or from an Acquire
// that gives back a slot it was granted as its ctx ended.
func (s *slot) free(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	s.cancel(cause)
	l := s.l
	l.mu.Lock()
	defer l.mu.Unlock()
	k := s.k
	if k == nil {
		return // taken back by Close
	}
	s.unlink()
	k.held--
	l.serve(k)
	l.dropIfIdle(k)
}

// unlink removes s from its key's held slots. l.mu must be held.
func (s *slot) unlink() {
	k := s.k
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		k.slots = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.k, s.prev, s.next = nil, nil, nil
}

// takeBackSlots ends the context of every slot of k with cause ErrClosed
// and unlinks it, so that its release does nothing. The guards that the
// cancellations start run on goroutines of their own, started by
// [context.AfterFunc], and find their slot already taken back. l.mu must
// be held.
func (k *keyState) takeBackSlots() {
	for s := k.slots; s != nil; {
		next := s.next
		s.cancel(ErrClosed)
		s.k, s.prev, s.next = nil, nil, nil
		s = next
	}
	k.slots, k.held = nil, 0
}
