package missedleaks11

import (
	"context"
)

// A request carries what the gateway knows of one request, the status of
// its account slot among the rest.
type request struct {
	account  string
	priority int
	acctSt   status
}

// The status lands in a field of the request: every condition that reads
// the request (`req.priority > 0`) is taken as a condition on the slot's
// status, and the granted slot handed on under it is not counted.
func (h *handler) requestField(ctx context.Context, req *request) (func(), status) { // want requestField:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var relA func()
	relA, req.acctSt = acquireAccountSlot(tctx, h.l, req.account) // want `the guard's ctx is cancelled by the deferred cancel when handler.requestField returns: it fires then`
	if relA == nil {
		return nil, req.acctSt
	}
	if req.priority > 0 {
		return relA, statusOK
	}
	relA()
	return nil, statusFull
}

// A gateway keeps the last account status on itself.
type gateway struct {
	h      *handler
	strict bool
	last   status
}

// The same with the status in a field of the receiver: `!g.strict` reads
// it.
func (g *gateway) receiverField(ctx context.Context) (func(), status) { // want receiverField:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, g.h.timeout)
	defer cancel()
	var relA func()
	relA, g.last = acquireAccountSlot(tctx, g.h.l, "acct") // want `the guard's ctx is cancelled by the deferred cancel when gateway.receiverField returns: it fires then`
	if relA == nil {
		return nil, g.last
	}
	if !g.strict {
		return relA, statusOK
	}
	relA()
	return nil, statusFull
}
