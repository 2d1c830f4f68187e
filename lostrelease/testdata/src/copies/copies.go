// Package copies copies a guard to another local variable, which must then
// be used in turn.
package copies

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

// Reported: the copy is stored and never called.

func storedNeverCalled(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	var held func()
	held = rel // want `the release function returned by WrapOnDone is not used on all paths`
	if held == nil {
		return
	}
	_ = step()
} // want `this return statement may be reached without using the release function held defined on line 21`

// Not reported.

func copyDeferred(ctx context.Context) error {
	rel := release.WrapOnDone(ctx, free)
	held := rel
	defer held()
	return step()
}

func copyToDeferredFirst(ctx context.Context) error {
	var cur func()
	defer func() {
		if cur != nil {
			cur()
		}
	}()
	rel := release.WrapOnDone(ctx, free)
	cur = rel
	return step()
}
