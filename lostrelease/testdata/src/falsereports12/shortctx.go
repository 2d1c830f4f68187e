package falsereports12

import (
	"context"
)

// The methods below take the account's slot on a timed ctx whose cancel
// they defer, give it back themselves when granted, and hand the caller
// the user's slot, taken on the parent ctx. The timed slot reaches a
// return only where it was not granted, and is nil: under a condition
// the path search does not read, which it then takes to hold the slot.

// Not reported: the helper's result is a struct; relA is returned only
// where its field says the slot was not granted.
func (h *handler) resultField(ctx context.Context, user string) (func(), slotResult) { // want resultField:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, res := acquireResult(tctx, h.l, "acct")
	if !res.granted {
		return relA, res
	}
	relA()
	return acquireResult(ctx, h.l, "user:"+user)
}

// Not reported: the same through the struct's method.
func (h *handler) resultMethod(ctx context.Context, user string) (func(), slotResult) { // want resultMethod:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, res := acquireResult(tctx, h.l, "acct")
	if !res.ok() {
		return relA, res
	}
	relA()
	return acquireResult(ctx, h.l, "user:"+user)
}

// Not reported: the same with a pointer to the struct.
func (h *handler) resultPointer(ctx context.Context, user string) (func(), *slotResult) { // want resultPointer:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, res := acquireResultPtr(tctx, h.l, "acct")
	if !res.granted {
		return relA, res
	}
	relA()
	return acquireResultPtr(ctx, h.l, "user:"+user)
}

// normal maps a status to the one the gateway answers with.
func (h *handler) normal(st status) status { return st }

// Not reported: the status is mapped by a method before the check; relA
// is returned only where the mapped status is not statusOK.
func (h *handler) normalized(ctx context.Context, user string) (func(), status) { // want normalized:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	st = h.normal(st)
	if st != statusOK {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the status converted to its integer code.
func (h *handler) converted(ctx context.Context, user string) (func(), status) { // want converted:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if int(st) != int(statusOK) {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the status read through a local closure.
func (h *handler) closureCheck(ctx context.Context, user string) (func(), status) { // want closureCheck:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	failed := func() bool { return st != statusOK }
	if failed() {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// An outcome holds the status of the account's slot.
type outcome struct{ st status }

// Not reported: the status stored in a struct's field by the call.
func (h *handler) statusInStruct(ctx context.Context, user string) (func(), status) { // want statusInStruct:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var o outcome
	var relA func()
	relA, o.st = acquireAccountSlot(tctx, h.l, "acct")
	if o.st != statusOK {
		return relA, o.st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: a bool set in branches from comparisons, not constants.
func (h *handler) grantedSet(ctx context.Context, user string, strict bool) (func(), status) { // want grantedSet:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	granted := false
	if strict {
		granted = st == statusOK
	} else {
		granted = st != statusFull
	}
	if !granted {
		return relA, st
	}
	relA()
	return acquireAccountSlot(ctx, h.l, "user:"+user)
}

// Not reported: the status's error, nil only for statusOK.
func (h *handler) statusErr(ctx context.Context, user string) (func(), error) { // want statusErr:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if err := st.Err(); err != nil {
		return relA, err
	}
	relA()
	relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
	return relU, st.Err()
}
