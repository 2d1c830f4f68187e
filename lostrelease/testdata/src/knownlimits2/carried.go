package knownlimits2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// A status read through an interface method, or through a field of a
// local struct: a predicate is a function or method with a static
// callee, and a condition is read on the variable or a copy of it.

// Outcome is the status as the gateway's handlers see it.
type Outcome interface{ OK() bool }

func (s status) OK() bool { return s == statusOK } // want OK:"isPredicate true:0 false:!0"

func acquireOutcome(ctx context.Context, l slots.Limiter) (func(), Outcome) { // want acquireOutcome:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	rel, st := acquireAccountSlot(ctx, l, "a")
	if st != statusOK {
		return nil, st
	}
	return rel, statusOK
}

func outcomeCaller(ctx context.Context, l slots.Limiter) error {
	rel, o := acquireOutcome(ctx, l) // want `the release function returned by acquireOutcome is not used on all paths`
	if !o.OK() {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

type attempt struct {
	account string
	st      status
}

func attemptCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	a := attempt{account: "a", st: st}
	if a.st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}
