// Package predicatecallers checks that a status predicate's fact crosses
// packages: Failed is defined in package predicates.
package predicatecallers

import (
	"context"

	"predicates"
)

func failedElsewhere(ctx context.Context, mode int) {
	rel, st := predicates.AcquireSlot(ctx, mode)
	if st.Failed() {
		return
	}
	defer rel()
}

func failedCopy(ctx context.Context, mode int) {
	rel, st := predicates.AcquireSlot(ctx, mode)
	failed := st.Failed()
	if failed {
		return
	}
	rel()
}

func failedWrongWay(ctx context.Context, mode int) {
	rel, st := predicates.AcquireSlot(ctx, mode) // want `not used on all paths`
	if !st.Failed() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func nilFnElsewhere(ctx context.Context, fail func(string)) {
	rel := predicates.Wrap(ctx, nil)
	if rel != nil {
		fail("want nil")
	}
}

func fnElsewhere(ctx context.Context, fail func(string)) {
	rel := predicates.Wrap(ctx, func() {}) // want `not used on all paths`
	if rel == nil {
		fail("want non-nil")
	}
} // want `this return statement may be reached without using the release function rel`

// Held is defined in a package that does not know of guards.
func heldElsewhere(ctx context.Context, busy bool) {
	rel, c := predicates.AcquireCode(ctx, busy)
	if !c.Held() {
		return
	}
	rel()
}

func heldWrongWay(ctx context.Context, busy bool) {
	rel, c := predicates.AcquireCode(ctx, busy) // want `not used on all paths`
	if c.Held() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}
