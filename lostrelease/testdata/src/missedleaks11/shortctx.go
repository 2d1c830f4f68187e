package missedleaks11

import (
	"context"
)

// The slots below are taken on a ctx that a cancel deferred by the same
// function ends, and handed to the caller when granted: the caller holds
// a release whose slot is freed as the function returns.

// The user's slot from a helper whose ctx parameter is assigned again by
// the Limiter's call (`ctx, rel, err := l.TryAcquire(ctx, ...)`): the
// helper's guard gets no ctx, and its callers are not checked.
func (h *handler) userSlot(ctx context.Context, user string) (context.Context, func(), status) { // want userSlot:"returnsGuard\\[1\\] 1:\\{2=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	uctx, relU, st := acquireUserSlot(tctx, h.l, user) // want `the guard's ctx is cancelled by the deferred cancel when handler.userSlot returns: it fires then`
	if st != statusOK {
		return uctx, nil, st
	}
	return uctx, relU, st
}

// A refused account slot falls back to the overflow pool, on the same
// timed ctx and into the same variables; the slot granted by either is
// handed on under `st == statusOK`. Both calls assign st, and a status
// that another call assigns is not read.
func (h *handler) overflow(ctx context.Context) (func(), status) { // want overflow:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.overflow returns: it fires then`
	if st == statusFull {
		relA, st = acquireAccountSlot(tctx, h.l, "acct-overflow") // want `the guard's ctx is cancelled by the deferred cancel when handler.overflow returns: it fires then`
	}
	if st == statusOK {
		return relA, st
	}
	return nil, st
}

// Two slots on the timed ctx, the second reusing st; both handed on
// together under the second's `st == statusOK`.
func (h *handler) twoSlots(ctx context.Context, user string) (func(), status) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.twoSlots returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	relU, st := acquireAccountSlot(tctx, h.l, "user:"+user) // want `the guard's ctx is cancelled by the deferred cancel when handler.twoSlots returns: it fires then`
	if st == statusOK {
		return func() { relU(); relA() }, st
	}
	relA()
	return nil, st
}

// A type switch on the error hands the slot on in a clause that lists
// nil among types: the guard is non-nil there when err is nil. (The nil
// check past the switch, where err is never nil, keeps the other rule's
// false report on that return out of this package.)
func (h *handler) nilAmongTypes(ctx context.Context) (func(), error) { // want nilAmongTypes:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, relA, err := h.l.Acquire(tctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.nilAmongTypes returns: it fires then`
	switch err.(type) {
	case nil, interface{ Temporary() bool }:
		return relA, err
	}
	if relA != nil {
		relA()
	}
	return nil, err
}

// The account slot is given back through a local closure that clears
// it, the gateway's habit; the combined release handed on calls that
// closure.
func (h *handler) releaseClosure(ctx context.Context, user string) (func(), status) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.releaseClosure returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	releaseA := func() {
		if relA != nil {
			relA()
			relA = nil
		}
	}
	relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	if st != statusOK {
		releaseA()
		return nil, st
	}
	return func() { relU(); releaseA() }, statusOK
}

// The same without clearing: the closure only calls the slot's release.
func (h *handler) callingClosure(ctx context.Context, user string) (func(), status) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.callingClosure returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	releaseA := func() { relA() }
	relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	if st != statusOK {
		releaseA()
		return nil, st
	}
	return func() { relU(); releaseA() }, statusOK
}

func (h *handler) validate() error { return nil }

// With named results, a deferred closure gives the slot back and clears
// the result if validation fails; when it passes, the slot is handed on
// by the bare return.
func (h *handler) namedClearOnFailure(ctx context.Context) (rel func(), err error) { // want namedClearOnFailure:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, rel, err = h.l.TryAcquire(tctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.namedClearOnFailure returns: it fires then`
	if err != nil {
		return
	}
	defer func() {
		if err != nil {
			rel()
			rel = nil
		}
	}()
	err = h.validate()
	return
}
