// Package failover tries a gateway's accounts in turn, releasing through
// local closures, and reports each leaking path of a guard on its own.
package failover

import (
	"context"
	"errors"

	"gateway"

	"github.com/ctxguard/release/redisslot"
)

func forward(context.Context, string) error { return errors.New("failed") }

func retryable(error) bool { return true }

func noRelease() {}

// Not reported: the failover loop releases through a local closure before
// each continue.

func failoverLoop(ctx context.Context, lim *redisslot.Limiter, accounts []string) error {
	var rel func()
	releaseSlot := func() {
		if rel != nil {
			rel()
			rel = nil
		}
	}
	for _, account := range accounts {
		var st gateway.OpenAISlotAcquireResult
		rel, st = gateway.AcquireAccountSlot(ctx, lim, account, false)
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		if err := forward(ctx, account); err != nil {
			releaseSlot()
			if retryable(err) {
				continue
			}
			return err
		}
		releaseSlot()
		return nil
	}
	return errors.New("no account")
}

func throughTwoClosures(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	if st != gateway.OpenAISlotAcquireOK {
		return nil
	}
	releaseSlot := func() { rel() }
	cleanup := func() {
		releaseSlot()
	}
	if err := forward(ctx, "account:1"); err != nil {
		cleanup()
		return err
	}
	defer cleanup()
	return nil
}

// Reported: a closure that does not release, or one assigned something
// else too.

func closureOnlyClears(ctx context.Context, lim *redisslot.Limiter) error {
	var rel func()
	clearSlot := func() { rel = nil }
	for _, account := range []string{"a", "b"} {
		var st gateway.OpenAISlotAcquireResult
		rel, st = gateway.AcquireAccountSlot(ctx, lim, account, false) // want `not used on all paths`
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		if err := forward(ctx, account); err != nil {
			clearSlot()
			continue // want `this continue statement may lead to line 75, which overwrites the release function rel defined on line 75 before it is used`
		}
		rel()
		return nil
	}
	return nil
}

func closureReassigned(ctx context.Context, lim *redisslot.Limiter, quiet bool) error {
	var rel func()
	releaseSlot := func() { rel() }
	if quiet {
		releaseSlot = noRelease
	}
	var st gateway.OpenAISlotAcquireResult
	rel, st = gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
	if st != gateway.OpenAISlotAcquireOK {
		return nil
	}
	releaseSlot()
	return nil // want `this return statement may be reached without using the release function rel`
}

// Reported on each leaking path: the first path releases, the second and
// third do not, and both are reported.

func secondPath(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
	if st != gateway.OpenAISlotAcquireOK {
		return nil
	}
	if err := forward(ctx, "a"); err != nil {
		rel()
		return err
	}
	if err := forward(ctx, "b"); err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 108`
	}
	if err := forward(ctx, "c"); err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 108`
	}
	rel()
	return nil
}

func continueAndReturn(ctx context.Context, lim *redisslot.Limiter) error {
	for range 3 {
		rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		if err := forward(ctx, "a"); err != nil {
			continue // want `this continue statement may lead back to line 128, which declares a new release function rel before the one it declared is used`
		}
		if err := forward(ctx, "b"); err != nil {
			return err // want `this return statement may be reached without using the release function rel defined on line 128`
		}
		rel()
		return nil
	}
	return nil
}

// A release deferred in a retry loop is held until the function returns:
// reported once, at the defer, and the continue after it is not a leak.

func deferInRetryLoop(ctx context.Context, lim *redisslot.Limiter) error {
	for attempt := 0; attempt < 3; attempt++ {
		rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		defer rel() // want `the release function rel is deferred in a loop: held until the function returns`
		if err := forward(ctx, "a"); err != nil {
			continue
		}
		return nil
	}
	return errors.New("gave up")
}

func deferredClosureInLoop(ctx context.Context, lim *redisslot.Limiter) error {
	for _, account := range []string{"a", "b"} {
		rel, st := gateway.AcquireAccountSlot(ctx, lim, account, false)
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		defer func() { rel() }() // want `deferred in a loop`
		if forward(ctx, account) != nil {
			continue
		}
		return nil
	}
	return nil
}

// Not reported: a defer in a loop that cannot run again before the
// function returns, or that holds every iteration's guard on purpose.

func deferThenReturn(ctx context.Context, lim *redisslot.Limiter) error {
	for attempt := 0; attempt < 3; attempt++ {
		rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		defer rel()
		return forward(ctx, "a")
	}
	return errors.New("gave up")
}

func holdEvery(ctx context.Context, lim *redisslot.Limiter) error {
	for range 3 {
		rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
		if st != gateway.OpenAISlotAcquireOK {
			return errors.New("no slot")
		}
		defer rel()
	}
	return forward(ctx, "all three")
}

// Reported: a retry loop that goes round after the defer without a
// continue.

func deferFallsThrough(ctx context.Context, lim *redisslot.Limiter) error {
	for attempt := 0; attempt < 3; attempt++ {
		rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
		if st != gateway.OpenAISlotAcquireOK {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, "a") == nil {
			return nil
		}
	}
	return errors.New("gave up")
}
