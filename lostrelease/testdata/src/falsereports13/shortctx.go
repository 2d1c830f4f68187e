package falsereports13

import (
	"context"
	"errors"
)

// The methods below take the account's slot on a timed ctx whose cancel
// they defer. Where it is granted they give it back themselves and return
// the user's slot, taken on the parent ctx; past that branch the account
// slot was not granted, and the release they return with the refusal is
// nil. The return is under no condition on the status, and the path
// search does not read the branch that leaves before it.

// Not reported: the granted branch tests the struct status's field.
func (h *handler) grantedField(ctx context.Context, user string) (func(), slotResult) { // want grantedField:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, res := acquireResult(tctx, h.l, "acct")
	if res.granted {
		relA()
		return acquireResult(ctx, h.l, "user:"+user)
	}
	return relA, res
}

// Not reported: the same through the struct's method.
func (h *handler) grantedMethod(ctx context.Context, user string) (func(), slotResult) { // want grantedMethod:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, res := acquireResult(tctx, h.l, "acct")
	if res.ok() {
		relA()
		return acquireResult(ctx, h.l, "user:"+user)
	}
	return relA, res
}

// Not reported: the same in a switch without a tag.
func (h *handler) grantedCase(ctx context.Context, user string) (func(), slotResult) { // want grantedCase:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, res := acquireResult(tctx, h.l, "acct")
	switch {
	case res.granted:
		relA()
		return acquireResult(ctx, h.l, "user:"+user)
	}
	return relA, res
}

// Not reported: the granted branch tests the status's error, nil only
// for statusOK.
func (h *handler) grantedErr(ctx context.Context, user string) (func(), error) { // want grantedErr:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	relA, st := acquireAccountSlot(tctx, h.l, "acct")
	if err := st.Err(); err == nil {
		relA()
		relU, st := acquireAccountSlot(ctx, h.l, "user:"+user)
		return relU, st.Err()
	}
	return relA, errors.New("account slot refused")
}
