package missedleaks4

import (
	"context"
	"fmt"

	"github.com/ctxguard/release/slots"
)

// handleWrapped wraps its named err in a deferred function literal, and
// drops its slot when step fails: still reported, at that return alone.
func handleWrapped(ctx context.Context, l slots.Limiter) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("handle: %w", err)
		}
	}()
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	if err := step(); err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 18`
	}
	defer rel()
	return nil
}

// handleChecked: a function literal called at once, whose own defer sets
// err after the acquire succeeded, runs on the paths of the function: err
// is no status of rel there, and the return it leads to drops the slot.
func handleChecked(ctx context.Context, l slots.Limiter) (err error) {
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	func() {
		defer func() {
			if err == nil {
				err = step()
			}
		}()
	}()
	if err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 33`
	}
	defer rel()
	return nil
}

// handleFlagged sets a flag where the slot was granted, then drops the
// slot on the path where the flag says it holds one.
func handleFlagged(ctx context.Context, l slots.Limiter) error {
	granted := false
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err == nil {
		granted = true
	}
	if granted {
		if err := step(); err != nil {
			return err // want `this return statement may be reached without using the release function rel defined on line 52`
		}
		defer rel()
	}
	return err
}

// handleFlagReset resets its flag in a closure it calls: the paths do not
// see that, so the flag is not followed, and the return it leads to is
// reported.
func handleFlagReset(ctx context.Context, l slots.Limiter, strict bool) error {
	granted := false
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err == nil {
		granted = true
	}
	reset := func() { granted = false }
	if strict {
		reset()
	}
	if !granted {
		return err // want `this return statement may be reached without using the release function rel defined on line 70`
	}
	defer rel()
	return nil
}

// handleLimitChanged takes its slot under `if limited`, then assigns
// limited: the condition no longer holds the same, and the slot dropped
// where limited was set to false is reported.
func handleLimitChanged(ctx context.Context, l slots.Limiter, limited bool) error {
	var rel func()
	if limited {
		var err error
		_, rel, err = l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return err
		}
	}
	if step() != nil {
		limited = false
	}
	if limited {
		rel()
	}
	return nil // want `this return statement may be reached without using the release function rel defined on line 92`
}

// handleFlagMaybeSet sets its flag in a branch before the call: what it
// holds at the call is not known, and the slot dropped where the flag is
// false is reported.
func handleFlagMaybeSet(ctx context.Context, l slots.Limiter, fast bool) error {
	acquired := false
	if fast {
		acquired = true
	}
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	if acquired {
		rel()
	}
	return nil // want `this return statement may be reached without using the release function rel defined on line 114`
}
