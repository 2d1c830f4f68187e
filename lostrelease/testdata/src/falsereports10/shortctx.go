package falsereports10

import (
	"context"
)

// The helpers below take the account's slot on a timed ctx whose cancel
// they defer, use it and give it back themselves, and hand the caller the
// user's slot, taken on the parent ctx. The timed slot reaches a return
// only where it is nil: the named result on a bare return after the
// timed call failed (or before it ran), a local variable returned where
// its call failed. Each call on the timed ctx is reported all the same.

// Not reported: the bare return is reached only when the account's slot
// was not granted, with rel nil; the granted slot is released here, and
// the last return hands on the user's slot, taken on ctx.
func (h *handler) accountThenUser(ctx context.Context, user string) (rel func(), st status) { // want accountThenUser:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	if rel, st = acquireAccountSlot(tctx, h.l, "acct"); st != statusOK {
		return
	}
	rel()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the bare return comes before the timed call, with rel
// nil; the timed slot is released here.
func (h *handler) checkedAccountThenUser(ctx context.Context, user string) (rel func(), st status) { // want checkedAccountThenUser:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	if user == "" {
		st = statusFull
		return
	}
	rel, st = acquireAccountSlot(tctx, h.l, "acct")
	if st != statusOK {
		return nil, st
	}
	rel()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: relA is returned only where its call failed, nil, with
// that call's status.
func (h *handler) accountStatusThenUser(ctx context.Context, user string) (func(), status) { // want accountStatusThenUser:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if st != statusOK {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the same as accountThenUser in a select that waits for
// the account to be ready.
func (h *handler) readyAccountThenUser(ctx context.Context, ready <-chan struct{}) (rel func(), st status) { // want readyAccountThenUser:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	select {
	case <-ready:
		rel, st = acquireAccountSlot(tctx, h.l, "acct")
		if st != statusOK {
			return
		}
		rel()
	case <-tctx.Done():
		return nil, statusFull
	}
	return acquireAccountSlot(ctx, h.l, "user")
}
