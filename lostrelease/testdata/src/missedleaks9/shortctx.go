package missedleaks9

import (
	"context"
	"time"

	"github.com/ctxguard/release/slots"
)

// The account slots below are taken on a ctx that a cancel deferred by the
// same function ends, and handed to the caller under a condition on the
// status or error of the user's slot, taken after it into the same
// variable: the account slot is granted there all the same, and freed as
// the function returns, while its caller still holds it.

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}

// st is the account call's status until the user's call assigns it.
func (h *handler) accountThenUser(ctx context.Context, acct, user string) (func(), status) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, acct) // want `the guard's ctx is cancelled by the deferred cancel when handler.accountThenUser returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	switch st {
	case statusOK:
		return func() { relU(); relA() }, st
	default:
		relA()
		return nil, st
	}
}

// The same with the Limiter's error.
func (h *handler) accountThenUserErr(ctx context.Context, acct, user string) (func(), error) {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	_, relA, err := h.l.Acquire(tctx, "acct:"+acct, 4) // want `the guard's ctx is cancelled by the deferred cancel when handler.accountThenUserErr returns: it fires then`
	if err != nil {
		return nil, err
	}
	_, relU, err := h.l.TryAcquire(ctx, "user:"+user, 1)
	if err == nil {
		return func() { relU(); relA() }, nil
	}
	relA()
	return nil, err
}

// The timed slot handed on under the condition that it was granted.
func (h *handler) grantedOnly(ctx context.Context, acct string) (func(), status) { // want grantedOnly:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	rel, st := acquireAccountSlot(tctx, h.l, acct) // want `the guard's ctx is cancelled by the deferred cancel when handler.grantedOnly returns: it fires then`
	if st == statusOK {
		return rel, st
	}
	return nil, st
}
