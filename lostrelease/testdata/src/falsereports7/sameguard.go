package falsereports7

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Not reported (values before the call): the slot is taken only when
// limited, a parameter never assigned, is true, and released under the
// same condition; when limited is false rel stays nil and there is nothing
// to leak: the call is under `if limited`, a condition that holds the same
// wherever it is tested. A route with an optional limit (`if limit > 0`)
// takes this shape.
func serveOptional(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	var rel func()
	if limited {
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if limited {
		rel()
	}
	return err
}

// Not reported (values before the call): acquired is set to true just
// before the slot is taken, in the branch that takes it; if the call fails
// the function returns, so wherever acquired is true past the branch rel
// is the call's non-nil guard, and it is released: the statement before
// the call in its list sets acquired.
func serveFlagFirst(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	var rel func()
	acquired := false
	if limited {
		acquired = true
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if acquired {
		rel()
	}
	return err
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

// Not reported: the same, the slot taken in the else of `if unlimited`
// and released in another.
func serveUnlessUnlimited(ctx context.Context, l slots.Limiter, acct string, unlimited bool) error {
	var rel func()
	if unlimited {
		rel = nil
	} else {
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if !unlimited {
		rel()
	}
	return err
}

type mode int

const (
	modeOpen mode = iota
	modeLimited
)

// Not reported: the condition compares a parameter with a named constant.
func serveInMode(ctx context.Context, l slots.Limiter, acct string, m mode) error {
	var rel func()
	if m == modeLimited {
		var err error
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if m == modeLimited {
		rel()
	}
	return err
}
