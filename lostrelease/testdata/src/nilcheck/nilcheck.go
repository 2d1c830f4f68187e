// Package nilcheck compares guards with nil: not a use, but on the branch
// where the guard is nil there is nothing to leak.
package nilcheck

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

// Reported: compared with nil, never called.

func onlyCompared(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	if rel == nil {
		return
	}
	_ = step()
} // want `this return statement may be reached without using the release function rel defined on line 19`

func comparedTwice(ctx context.Context) bool {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	return rel != nil && nil != rel      // want `this return statement may be reached without using the release function rel`
}

// Not reported: the guard is used wherever it is not nil.

func deferIfNotNil(ctx context.Context) error {
	rel := release.WrapOnDone(ctx, free)
	if rel != nil {
		defer rel()
	}
	return step()
}

func returnIfNil(ctx context.Context) error {
	rel := release.WrapOnDone(ctx, free)
	if nil == rel {
		return errors.New("no guard")
	}
	defer rel()
	return step()
}

func elseBranch(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free)
	if rel == nil {
		_ = step()
	} else {
		rel()
	}
}
