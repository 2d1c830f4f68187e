// Package failure checks the branch where a helper's last result says the
// call failed: by convention the guard is nil there.
package failure

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func step() error { return errors.New("failed") }

func acquire(ctx context.Context, n int) (func(), error) { // want acquire:"returnsGuard\\[0\\]"
	if n == 0 {
		return nil, errors.New("none left")
	}
	return release.WrapOnDone(ctx, func() {}), nil
}

func trySlot(ctx context.Context) (context.Context, func(), bool) { // want trySlot:"returnsGuard\\[1\\]"
	return ctx, release.WrapOnDone(ctx, func() {}), true
}

// Not reported.

func errReturns(ctx context.Context) error {
	rel, err := acquire(ctx, 1)
	if err != nil {
		return err
	}
	defer rel()
	return step()
}

func errIsTheRest(ctx context.Context) error {
	rel, err := acquire(ctx, 1)
	if err == nil {
		defer rel()
		return step()
	}
	return err
}

func notOK(ctx context.Context) {
	ctx, rel, ok := trySlot(ctx)
	if !ok {
		return
	}
	defer rel()
	_ = ctx
}

func okThenRest(ctx context.Context) bool {
	_, rel, ok := trySlot(ctx)
	if ok {
		rel()
		return true
	}
	return false
}

func inIfInit(ctx context.Context) error {
	if rel, err := acquire(ctx, 1); err != nil {
		return err
	} else {
		rel()
	}
	return nil
}

// Reported.

func errReassigned(ctx context.Context) error {
	rel, err := acquire(ctx, 1) // want `not used on all paths`
	err = step()
	if err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 75`
	}
	rel()
	return nil
}

func anotherError(ctx context.Context) error {
	rel, err := acquire(ctx, 1) // want `not used on all paths`
	if err != nil {
		return err
	}
	if err := step(); err != nil {
		return err // want `may be reached without using the release function rel`
	}
	rel()
	return nil
}

func errorDiscarded(ctx context.Context) error {
	rel, _ := acquire(ctx, 1) // want `not used on all paths`
	if rel == nil {
		return nil
	}
	if step() != nil {
		return nil // want `may be reached without using the release function rel`
	}
	rel()
	return nil
}

func successLeaks(ctx context.Context) error {
	rel, err := acquire(ctx, 1) // want `not used on all paths`
	if err != nil {
		return err
	}
	if step() == nil {
		rel()
	}
	return nil // want `may be reached without using the release function rel`
}

var errNone = errors.New("none left")

// Not reported: sentinel errors, errors.Is and combined conditions.

func sentinelFallThrough(ctx context.Context) (func(), error) { // want sentinelFallThrough:"returnsGuard\\[0\\]"
	for {
		rel, err := acquire(ctx, 1)
		if err != errNone {
			return rel, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

func sentinelEqual(ctx context.Context) error {
	rel, err := acquire(ctx, 1)
	if err == errNone {
		return err
	}
	if err != nil {
		return err
	}
	defer rel()
	return step()
}

func errorsIs(ctx context.Context) error {
	rel, err := acquire(ctx, 1)
	if errors.Is(err, errNone) {
		return nil
	}
	if err != nil {
		return err
	}
	rel()
	return nil
}

func notErrorsIs(ctx context.Context) error {
	rel, err := acquire(ctx, 1)
	if !errors.Is(err, errNone) {
		if err == nil {
			rel()
		}
		return err
	}
	return nil
}

func either(ctx context.Context) error {
	rel, err := acquire(ctx, 1)
	if err != nil || rel == nil {
		return err
	}
	defer rel()
	return step()
}

func both(ctx context.Context) {
	rel, err := acquire(ctx, 1)
	if err == nil && rel != nil {
		defer rel()
	}
	_ = step()
}

// Reported: a combined condition that does not say the call failed.

func failedOrNot(ctx context.Context) error {
	rel, err := acquire(ctx, 1) // want `not used on all paths`
	if err != nil || step() != nil {
		return err // want `may be reached without using the release function rel`
	}
	rel()
	return nil
}

func errorsIsOther(ctx context.Context) error {
	rel, err := acquire(ctx, 1) // want `not used on all paths`
	if err != nil {
		return err
	}
	if err := step(); errors.Is(err, errNone) {
		return err // want `may be reached without using the release function rel`
	}
	rel()
	return nil
}
