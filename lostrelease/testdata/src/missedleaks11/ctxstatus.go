package missedleaks11

import (
	"context"
	"errors"
)

var errDenied = errors.New("denied")

func (h *handler) authorize(ctx context.Context) error { return nil }

type userKey struct{}

func (h *handler) allowed(ctx context.Context, user string) bool { return ctx.Value(userKey{}) == user }

// The slot's own ctx, which the Limiter's call gives back, is one of the
// call's other results: a check that reads it (`h.allowed(ctx, user)`)
// is taken as a condition on the slot's status, and the slot handed on
// under it, granted, is not counted.
func (h *handler) allowedUser(ctx context.Context, user string) (context.Context, func(), error) { // want allowedUser:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	ctx, rel, err := h.l.Acquire(ctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.allowedUser returns: it fires then`
	if err != nil {
		return nil, nil, err
	}
	if h.allowed(ctx, user) {
		return ctx, rel, nil
	}
	rel()
	return nil, nil, errDenied
}

// The same with the slot's ctx in a variable of its own, read through
// the error of a call on it.
func (h *handler) authorized(ctx context.Context) (func(), error) { // want authorized:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	sctx, rel, err := h.l.Acquire(tctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.authorized returns: it fires then`
	if err != nil {
		return nil, err
	}
	if h.authorize(sctx) == nil {
		return rel, nil
	}
	rel()
	return nil, errDenied
}

// The Limiter's err is reused for the next check in an if's init
// statement, which replaces it: the slot is granted under `err == nil`.
// The same assignment as a statement of its own is read right.
func (h *handler) errReused(ctx context.Context) (func(), error) { // want errReused:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, rel, err := h.l.Acquire(tctx, "acct", 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.errReused returns: it fires then`
	if err != nil {
		return nil, err
	}
	if err = h.authorize(tctx); err == nil {
		return rel, nil
	}
	rel()
	return nil, err
}
