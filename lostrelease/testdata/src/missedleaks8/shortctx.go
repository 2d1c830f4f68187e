package missedleaks8

import (
	"context"
	"time"

	"github.com/ctxguard/release/slots"
)

// The slots below are taken on a ctx that a cancel deferred by the same
// function ends, and handed to the caller: each is freed as the function
// returns, while its caller still holds it.

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}

// An accountLease holds an account's slot for the caller.
type accountLease struct {
	release func()
	st      status
}

// Handed on in a pointer to a composite literal.
func (h *handler) accountLeaseWithin(ctx context.Context, acct string) *accountLease {
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	rel, st := acquireAccountSlot(tctx, h.l, acct) // want `the guard's ctx is cancelled by the deferred cancel when handler.accountLeaseWithin returns: it fires then`
	if st != statusOK {
		return &accountLease{st: st}
	}
	return &accountLease{release: rel, st: st}
}
