package missedleaks7

import (
	"context"
	"net/http"
	"time"

	"github.com/ctxguard/release/slots"
)

// The slots below are taken on a ctx that a cancel deferred by the same
// function ends, and handed to the caller: each is freed as the function
// returns, while its caller still holds it.

// The Limiter's own ctx assigned back to ctx, as Acquire's doc suggests:
// ctx is then assigned twice, but the Acquire reads the timed one.
func acquireUserWithin(ctx context.Context, l slots.Limiter, user string) (context.Context, func(), error) { // want acquireUserWithin:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ctx, rel, err := l.Acquire(ctx, "user:"+user, 2) // want `the guard's ctx is cancelled by the deferred cancel when acquireUserWithin returns: it fires then`
	return ctx, rel, err
}

// The same through the gateway's helper that returns the slot's ctx.
func acquireUserSlotWithin(ctx context.Context, l slots.Limiter, user string) (context.Context, func(), status) { // want acquireUserSlotWithin:"returnsGuard\\[1\\] 1:\\{2=0\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ctx, rel, st := acquireUserSlot(ctx, l, user) // want `the guard's ctx is cancelled by the deferred cancel when acquireUserSlotWithin returns: it fires then`
	if st != statusOK {
		return nil, nil, st
	}
	return ctx, rel, statusOK
}

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}

// The same with a local ctx, a handler's method.
func (h *handler) userSlot(r *http.Request) (context.Context, func(), error) { // want userSlot:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()
	ctx, rel, err := h.l.Acquire(ctx, "user", 2) // want `the guard's ctx is cancelled by the deferred cancel when handler.userSlot returns: it fires then`
	return ctx, rel, err
}

// Two slots handed on as one combined release: both are freed as the
// helper returns.
func (h *handler) acquireBothWithin(ctx context.Context, user, acct string) (func(), status) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	relU, st := acquireAccountSlot(ctx, h.l, user) // want `the guard's ctx is cancelled by the deferred cancel when handler.acquireBothWithin returns: it fires then`
	if st != statusOK {
		return nil, st
	}
	relA, st := acquireAccountSlot(ctx, h.l, acct) // want `the guard's ctx is cancelled by the deferred cancel when handler.acquireBothWithin returns: it fires then`
	if st != statusOK {
		relU()
		return nil, st
	}
	return func() { relA(); relU() }, statusOK
}

// The slot handed on in a struct.
type held struct{ user, acct func() }

func acquireHeldWithin(ctx context.Context, l slots.Limiter) (held, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, relU, err := l.Acquire(ctx, "u", 1) // want `the guard's ctx is cancelled by the deferred cancel when acquireHeldWithin returns: it fires then`
	if err != nil {
		return held{}, err
	}
	return held{user: relU}, nil
}

// cancel declared first, then assigned with ctx.
func acquireVarCancel(ctx context.Context, l slots.Limiter) (func(), error) { // want acquireVarCancel:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	var cancel context.CancelFunc
	ctx, cancel = context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the guard's ctx is cancelled by the deferred cancel when acquireVarCancel returns: it fires then`
	return rel, err
}

// A primary account and a fallback, both taken on the timed ctx into one
// variable: the slot handed on is freed as the function returns, which
// ever account gave it.
func acquireWithFallback(ctx context.Context, l slots.Limiter, primary, fallback string) (func(), status) { // want acquireWithFallback:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rel, st := acquireAccountSlot(ctx, l, primary) // want `the guard's ctx is cancelled by the deferred cancel when acquireWithFallback returns: it fires then`
	if st != statusOK {
		rel, st = acquireAccountSlot(ctx, l, fallback) // want `the guard's ctx is cancelled by the deferred cancel when acquireWithFallback returns: it fires then`
	}
	return rel, st
}
