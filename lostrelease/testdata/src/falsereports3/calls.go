package falsereports3

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

func (s status) ok() bool { return s == statusOK } // want ok:"isPredicate true:0 false:!0"

// methodExpression calls the predicate as a method expression: the
// receiver is the first argument.
func methodExpression(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a")
	if !status.ok(st) {
		return errors.New("refused")
	}
	defer rel()
	return step()
}

// granted reads its receiver through a copy, as a caller may.
func (s status) granted() bool { // want granted:"isPredicate true:0 false:!0"
	v := s
	return v == statusOK
}

func grantedCopy(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a")
	if !st.granted() {
		return errors.New("refused")
	}
	defer rel()
	return step()
}
