// Package limitercallers calls the helpers of limitergateway, built over
// the slots.Limiter interface, the way a gateway's handlers do.
package limitercallers

import (
	"context"
	"errors"

	"limitergateway"

	"github.com/ctxguard/release/slots"
)

func work(context.Context) error { return errors.New("failed") }

// Not reported.

func handle(ctx context.Context, l slots.Limiter, g *limitergateway.Gateway) error {
	ctx, releaseUser, st := limitergateway.AcquireUserSlot(ctx, l, "u1")
	if st != limitergateway.StatusOK {
		return errors.New("no user slot")
	}
	defer releaseUser()
	ctx, releaseAccount, st := g.TryAccount(ctx, "a1")
	if st != limitergateway.StatusOK {
		return errors.New("no account slot")
	}
	defer releaseAccount()
	return work(ctx)
}

func switchOn(ctx context.Context, l slots.Limiter) error {
	ctx, rel, st := limitergateway.AcquireUserSlot(ctx, l, "u1")
	switch st {
	case limitergateway.StatusOK:
		defer rel()
	case limitergateway.StatusFull:
		return nil
	default:
		return errors.New("no slot")
	}
	return work(ctx)
}

func passedOn(ctx context.Context, l slots.Limiter) error {
	ctx, rel, err := limitergateway.Acquire(ctx, l, "k")
	if err != nil {
		return err
	}
	defer rel()
	return work(ctx)
}

// Reported at the leaking return.

func earlyReturn(ctx context.Context, l slots.Limiter, g *limitergateway.Gateway) error {
	ctx, releaseUser, st := limitergateway.AcquireUserSlot(ctx, l, "u1") // want `the release function returned by AcquireUserSlot is not used on all paths`
	if st != limitergateway.StatusOK {
		return errors.New("no user slot")
	}
	ctx, releaseAccount, st := g.TryAccount(ctx, "a1")
	if st != limitergateway.StatusOK {
		return errors.New("no account slot") // want `this return statement may be reached without using the release function releaseUser defined on line 57`
	}
	defer releaseUser()
	defer releaseAccount()
	return work(ctx)
}

func accountLeaks(ctx context.Context, g *limitergateway.Gateway) error {
	ctx, rel, st := g.TryAccount(ctx, "a1") // want `returned by Gateway.TryAccount is not used on all paths`
	if st == limitergateway.StatusFull {
		return nil
	}
	if err := work(ctx); err != nil {
		return err // want `without using the release function rel defined on line 71`
	}
	rel()
	return nil
}

func discarded(ctx context.Context, l slots.Limiter) limitergateway.Status {
	_, _, st := limitergateway.AcquireUserSlot(ctx, l, "u1") // want `returned by AcquireUserSlot is discarded`
	return st
}
