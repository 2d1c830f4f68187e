// Package falsereports8 holds correct code in the gateway's shapes that
// lostrelease reports today. The comment on each case says why the code
// is correct.
package falsereports8

import (
	"context"

	"github.com/ctxguard/release/slots"
)

func work(ctx context.Context) error { return ctx.Err() }

// Not reported: the slot is taken only where bypass is false, and bypass,
// a parameter never assigned, is false again at the second if, so the
// return under it holds nothing. The condition the slot is taken under is
// a negation; the one tested later is not.
func serveUnlessBypass(ctx context.Context, l slots.Limiter, acct string, bypass bool) error {
	var rel func()
	var err error
	if !bypass {
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err = work(ctx)
	if bypass {
		return err
	}
	rel()
	return err
}

// Not reported: the slot is taken only where limit > 0; limit <= 0, on a
// parameter never assigned, is then false.
func serveWithLimit(ctx context.Context, l slots.Limiter, acct string, limit int) error {
	var rel func()
	var err error
	if limit > 0 {
		_, rel, err = l.TryAcquire(ctx, acct, limit)
		if err != nil {
			return err
		}
	}
	err = work(ctx)
	if limit <= 0 {
		return err
	}
	rel()
	return err
}

// Not reported: the same condition, its operands in the other order.
func serveLimitedAccount(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	var rel func()
	var err error
	if limited && acct != "" {
		_, rel, err = l.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err = work(ctx)
	if acct != "" && limited {
		rel()
	}
	return err
}
