package missedleaks

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// closureSetsStatus: the closure turns statusOK into statusDraining while
// the guard is held, and the refusal returns without releasing it.
func closureSetsStatus(ctx context.Context, l slots.Limiter, draining bool) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	func() {
		if draining {
			st = statusDraining
		}
	}()
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// methodSetsStatus: a method with a pointer receiver changes the status.
func methodSetsStatus(ctx context.Context, l slots.Limiter, draining bool) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	st.degrade(draining)
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

func markDraining(st *status) { *st = statusDraining }

// pointerSetsStatus: a function given the status's address changes it.
func pointerSetsStatus(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	markDraining(&st)
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// aliasSetsStatus: the status changed through a pointer variable.
func aliasSetsStatus(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	p := &st
	*p = statusDraining
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}
