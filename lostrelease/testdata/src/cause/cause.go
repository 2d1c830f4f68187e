// Package cause checks WrapOnDoneCause as WrapOnDone.
package cause

import (
	"context"
	"errors"

	rel "github.com/ctxguard/release"
)

func step() error { return errors.New("failed") }

func onCause(error) {}

func discarded(ctx context.Context) {
	rel.WrapOnDoneCause(ctx, onCause)     // want `the release function returned by WrapOnDoneCause is discarded \(the guarded resource leaks until ctx is done\)`
	_ = rel.WrapOnDoneCause(ctx, onCause) // want `returned by WrapOnDoneCause is discarded`
}

func notOnAllPaths(ctx context.Context) error {
	free := rel.WrapOnDoneCause(ctx, onCause) // want `the release function returned by WrapOnDoneCause is not used on all paths`
	if err := step(); err != nil {
		return err // want `this return statement may be reached without using the release function free defined on line 21`
	}
	free()
	return nil
}

func helper(ctx context.Context) (func(), error) { // want helper:"returnsGuard\\[0\\]"
	return rel.WrapOnDoneCause(ctx, onCause), nil
}

func viaHelper(ctx context.Context) {
	_, _ = helper(ctx) // want `returned by helper is discarded`
}

func deferred(ctx context.Context) error {
	free := rel.WrapOnDoneCause(ctx, onCause)
	defer free()
	return step()
}
