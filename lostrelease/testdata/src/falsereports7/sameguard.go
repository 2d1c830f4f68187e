package falsereports7

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// False report (values before the call): the slot is taken only when
// limited, a parameter never assigned, is true, and released under the
// same condition; when limited is false rel stays nil and there is nothing
// to leak. The paths from the call start with every variable unknown, so
// the `if limited` that skips rel() is not seen to hold a nil rel. A route
// with an optional limit (`if route.limit > 0`) takes this shape; writing
// `if rel != nil { rel() }` is not reported.
func serveOptional(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	var rel func()
	if limited {
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if limited {
		rel()
	}
	return err // want `this return statement may be reached without using the release function rel`
}

// False report (values before the call): acquired is set to true just
// before the slot is taken, in the branch that takes it; if the call fails
// the function returns, so wherever acquired is true past the branch rel
// is the call's non-nil guard, and it is released. Set after the call
// (acquired = true below the error check), the same function is not
// reported: the constant is seen on the paths from the call only when it
// is assigned after it.
func serveFlagFirst(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	var rel func()
	acquired := false
	if limited {
		acquired = true
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if acquired {
		rel()
	}
	return err // want `this return statement may be reached without using the release function rel`
}

// Not reported: the flag set after the call.
func serveFlagAfter(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	var rel func()
	acquired := false
	if limited {
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
		acquired = true
	}
	err := work(ctx)
	if acquired {
		rel()
	}
	return err
}
