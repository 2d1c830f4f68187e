package missedleaks10

import (
	"context"
	"fmt"
)

// The account slots below are taken on a ctx that a cancel deferred by
// the same function ends, and handed to the caller when granted: the
// caller holds a release whose slot is freed as the function returns.
// The path search stops at the first use of the guard on a path, and a
// return after that use is not counted.

// A deferred closure gives the account slot back if the user's slot is
// refused; when both are granted, both are handed on.
func (h *handler) releaseOnFailure(ctx context.Context, user string) (func(), status) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.releaseOnFailure returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	handed := false
	defer func() {
		if !handed {
			relA()
		}
	}()
	relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	if st != statusOK {
		return nil, st
	}
	handed = true
	return func() { relU(); relA() }, statusOK
}

// The same with the Limiter's error in a named result.
func (h *handler) releaseOnError(ctx context.Context, user string) (rel func(), err error) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, relA, err := h.l.TryAcquire(tctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.releaseOnError returns: it fires then`
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			relA()
		}
	}()
	_, relU, err := h.l.TryAcquire(ctx, "user:"+user, 1)
	if err != nil {
		return nil, err
	}
	return func() { relU(); relA() }, nil
}

// A deferred closure gives the slot back if validation panics.
func (h *handler) releaseOnPanic(ctx context.Context, user string) (func(), status) { // want releaseOnPanic:"returnsGuard\\[0\\] 0:\\{1=1\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.releaseOnPanic returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	defer func() {
		if r := recover(); r != nil {
			relA()
			panic(r)
		}
	}()
	h.validate(user)
	return relA, st
}

func (h *handler) validate(string) {}

// An inflight set counts the slots a request holds.
type inflight struct{ rels []func() }

func (f *inflight) add(rel func()) { f.rels = append(f.rels, rel) }

// The slot is counted before it is handed on.
func (h *handler) counted(ctx context.Context, f *inflight) (func(), status) { // want counted:"returnsGuard\\[0\\] 0:\\{1=1\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when handler.counted returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	f.add(relA)
	return relA, st
}

// A type switch on the error hands the granted slot on in `case nil`:
// every return in a type switch on the error is skipped, that one too.
func (h *handler) typeSwitchGranted(ctx context.Context) (func(), error) { // want typeSwitchGranted:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, relA, err := h.l.Acquire(tctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.typeSwitchGranted returns: it fires then`
	switch err.(type) {
	case nil:
		return relA, nil
	default:
		return relA, fmt.Errorf("account: %w", err)
	}
}
