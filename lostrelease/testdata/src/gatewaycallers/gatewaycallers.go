// Package gatewaycallers calls a gateway's status-typed helpers the way
// its handlers do.
package gatewaycallers

import (
	"context"
	"errors"

	"gateway"

	"github.com/ctxguard/release/redisslot"
)

func work(context.Context) error { return errors.New("failed") }

func logVeto() {}

// Not reported: every branch where the status is not OK has no guard.

func notOK(ctx context.Context, lim *redisslot.Limiter) error {
	rel, slotStatus := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	if slotStatus != gateway.OpenAISlotAcquireOK {
		return errors.New("no slot")
	}
	defer rel()
	return work(ctx)
}

func vetoFirst(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	if st == gateway.OpenAISlotAcquireProfitVetoed {
		logVeto()
		return nil
	} else if st != gateway.OpenAISlotAcquireOK {
		return errors.New("no slot")
	}
	defer rel()
	return work(ctx)
}

func vetoFallsThrough(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	if st == gateway.OpenAISlotAcquireProfitVetoed {
		logVeto()
	} else if st != gateway.OpenAISlotAcquireOK {
		return errors.New("no slot")
	}
	if rel != nil {
		defer rel()
	}
	return work(ctx)
}

func switchDefault(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	switch st {
	case gateway.OpenAISlotAcquireOK:
		defer rel()
	default:
		return errors.New("no slot")
	}
	return work(ctx)
}

func switchEachStatus(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	switch st {
	case gateway.OpenAISlotAcquireFull, gateway.OpenAISlotAcquireError:
		return errors.New("no slot")
	case gateway.OpenAISlotAcquireProfitVetoed:
		return nil
	}
	defer rel()
	return work(ctx)
}

func switchNoTag(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	switch {
	case st == gateway.OpenAISlotAcquireFull:
		return errors.New("full")
	case st != gateway.OpenAISlotAcquireOK:
		return errors.New("no slot")
	}
	defer rel()
	return work(ctx)
}

func combined(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false)
	if !(st == gateway.OpenAISlotAcquireOK) || ctx.Err() != nil && rel == nil {
		return errors.New("no slot")
	}
	defer rel()
	return work(ctx)
}

func followed(ctx context.Context, lim *redisslot.Limiter) {
	rel, st := gateway.AcquireFollowed(ctx, lim)
	if st != gateway.OpenAISlotAcquireOK {
		return
	}
	rel()
}

func maybe(ctx context.Context, lim *redisslot.Limiter) error {
	rel, err := gateway.AcquireMaybe(ctx, lim)
	if err != nil {
		return err
	}
	rel()
	return nil
}

func untypedCode(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	if code == 429 || code >= 500 && rel == nil {
		return
	}
	if code != 200 && code != 203 {
		return
	}
	rel()
}

func switchDefaultAfterEveryValue(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false)
	switch code {
	case 200:
		rel()
	case 203:
		defer rel()
	default:
		return
	}
}

// Reported.

func statusReassigned(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
	_, st = gateway.AcquireAccountSlot(ctx, lim, "account:2", false)    // want `is discarded`
	if st != gateway.OpenAISlotAcquireOK {
		return nil // want `this return statement may be reached without using the release function rel`
	}
	rel()
	return nil
}

func okLeaks(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
	if st != gateway.OpenAISlotAcquireOK {
		return nil
	}
	if err := work(ctx); err != nil {
		return err // want `this return statement may be reached without using the release function rel`
	}
	rel()
	return nil
}

func switchCaseOKLeaks(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
	switch st {
	case gateway.OpenAISlotAcquireFull:
		return nil
	case gateway.OpenAISlotAcquireOK:
		return nil // want `this return statement may be reached without using the release function rel`
	}
	rel()
	return nil
}

func switchDefaultMissesOK(ctx context.Context, lim *redisslot.Limiter) error {
	rel, st := gateway.AcquireAccountSlot(ctx, lim, "account:1", false) // want `not used on all paths`
	switch st {
	case gateway.OpenAISlotAcquireFull:
		rel()
	default:
		return nil // want `this return statement may be reached without using the release function rel`
	}
	return nil
}

func degraded(ctx context.Context) error {
	rel, err := gateway.AcquireDegraded(ctx, false) // want `not used on all paths`
	if err != nil {
		return err // want `this return statement may be reached without using the release function rel`
	}
	rel()
	return nil
}

func codeOtherThanAllowed(ctx context.Context) {
	code, rel := gateway.AcquireCode(ctx, false) // want `not used on all paths`
	if code != 200 {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}
