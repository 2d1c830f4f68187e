// Package callers calls the helpers of other packages.
package callers

import (
	"context"
	"errors"

	"github.com/ctxguard/release/redisslot"
	"helpers"
)

func work(context.Context) error { return errors.New("failed") }

// Reported: a guard result discarded, whatever its position.

func discardedWithError(ctx context.Context) error {
	_, err := helpers.AcquireUser(ctx, false) // want `the release function returned by AcquireUser is discarded \(the guarded resource leaks until ctx is done\)`
	return err
}

func discardedWithBool(ctx context.Context) bool {
	_, ok := helpers.AcquireUserSlot(ctx) // want `returned by AcquireUserSlot is discarded`
	return ok
}

func discardedInTheMiddle(ctx context.Context, lim *redisslot.Limiter) error {
	ctx, _, err := lim.TryAcquire(ctx, "user:1", 4) // want `returned by Limiter.TryAcquire is discarded`
	if err != nil {
		return err
	}
	return work(ctx)
}

func bareCalls(ctx context.Context, lim *redisslot.Limiter) {
	helpers.AcquireUser(ctx, false)     // want `returned by AcquireUser is discarded`
	go helpers.AcquireAgain(ctx)        // want `returned by AcquireAgain is discarded`
	defer lim.Acquire(ctx, "user:1", 4) // want `returned by Limiter.Acquire is discarded`
	var p helpers.Pool
	p.Get(ctx)                           // want `returned by Pool.Get is discarded`
	var _, _ = helpers.AcquireNamed(ctx) // want `returned by AcquireNamed is discarded`
	_, _ = helpers.Guarded(ctx, 1)       // want `returned by Guarded is discarded`
}

func oneOfTwo(ctx context.Context) {
	a, _ := helpers.Pair(ctx) // want `returned by Pair is discarded`
	a()
}

// Reported: a path that does not use the guard.

func redisslotLeak(ctx context.Context, lim *redisslot.Limiter) error {
	ctx, rel, err := lim.Acquire(ctx, "user:1", 4) // want `the release function returned by Limiter.Acquire is not used on all paths \(the guarded resource leaks until ctx is done\)`
	if err != nil {
		return err
	}
	if err := work(ctx); err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 52`
	}
	rel()
	return nil
}

func throughThreeHelpers(ctx context.Context) error {
	ctx, rel, err := helpers.AcquireAgain(ctx) // want `returned by AcquireAgain is not used on all paths`
	if err != nil {
		return err
	}
	if work(ctx) != nil {
		return nil // want `may be reached without using the release function rel`
	}
	defer rel()
	return nil
}

func secondOfPair(ctx context.Context) {
	a, b := helpers.Pair(ctx) // want `returned by Pair is not used on all paths`
	defer a()
	if work(ctx) == nil {
		b()
	}
} // want `without using the release function b`

// retryLoop is the shape of a real leak: in a retry loop, an error skips
// the account slot's release.
func retryLoop(ctx context.Context) error {
	for attempt := 0; attempt < 3; attempt++ {
		rel, ok := helpers.AcquireUserSlot(ctx) // want `returned by AcquireUserSlot is not used on all paths`
		if !ok {
			continue
		}
		if err := work(ctx); err != nil {
			if errors.Is(err, context.Canceled) {
				rel()
				continue
			}
			return err // want `this return statement may be reached without using the release function rel`
		}
		rel()
		return nil
	}
	return errors.New("gave up")
}

// retryContinue loses the guard on a continue: the next attempt assigns it
// again.
func retryContinue(ctx context.Context, lim *redisslot.Limiter) error {
	for range 3 {
		ctx, rel, err := lim.TryAcquire(ctx, "account:7", 2) // want `returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			continue
		}
		if work(ctx) != nil {
			continue // want `this continue statement may lead back to line 108, which declares a new release function rel before the one it declared is used`
		}
		rel()
		return nil
	}
	return errors.New("gave up")
}

// Not reported.

func redisslotShape(ctx context.Context, lim *redisslot.Limiter) error {
	ctx, rel, err := lim.TryAcquire(ctx, "user:1", 4)
	if err != nil {
		return err
	}
	defer rel()
	return work(ctx)
}

func boolShape(ctx context.Context) {
	rel, ok := helpers.AcquireUserSlot(ctx)
	if !ok {
		return
	}
	defer rel()
	_ = work(ctx)
}

func handedOn(ctx context.Context) func() {
	rel, err := helpers.AcquireUser(ctx, false)
	if err != nil {
		return nil
	}
	return helpers.Passed(rel)
}

// Not reported, the known limits: a closure wrapping a guard, a method
// value, an interface call.

func limits(ctx context.Context, acq helpers.Acquirer, p *helpers.Pool) {
	helpers.Wrapped(ctx)
	get := p.Get
	get(ctx)
	acq.Acquire(ctx)
}
