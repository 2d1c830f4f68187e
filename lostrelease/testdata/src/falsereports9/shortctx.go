package falsereports9

import (
	"context"
	"time"

	"github.com/ctxguard/release/slots"
)

// Not reported: ctx is the parent again when the slot is taken; the
// timed ctx only bounded the probe before.
func probeThenAcquire(ctx context.Context, l slots.Limiter) (context.Context, func(), error) { // want probeThenAcquire:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ctx = parent
	ctx, rel, err := l.Acquire(ctx, "k", 1)
	return ctx, rel, err
}

// Not reported: the combined release holds the user's slot, taken on the
// parent ctx, and the account's slot is used here and given back.
func (h *handler) userSlotAfterAccountCheck(ctx context.Context, user string) (func(), status) {
	relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	if st != statusOK {
		return nil, st
	}
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if st != statusOK {
		relU()
		return nil, st
	}
	relA()
	return func() { relU() }, statusOK
}

// Not reported: the variable returned holds the parent's slot on one path
// and nil on the other; the timed slot is used here.
func fallbackOnParent(ctx context.Context, l slots.Limiter) (func(), status) { // want fallbackOnParent:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rel, st := acquireAccountSlot(tctx, l, "primary")
	if st == statusOK {
		rel()
		rel, st = acquireAccountSlot(ctx, l, "primary")
	}
	return rel, st
}

// Not reported: cancel is handed to the caller inside the release, not
// deferred.
func (h *handler) userSlotWithin(ctx context.Context, user string) (func(), status) {
	var cancel context.CancelFunc
	ctx, cancel = context.WithTimeout(ctx, h.timeout)
	rel, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	if st != statusOK {
		cancel()
		return nil, st
	}
	return func() { rel(); cancel() }, statusOK
}

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}
