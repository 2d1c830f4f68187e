// Package gateway returns account slots with a status of its own type, as
// an API gateway's helpers do: the guard is nil unless the status is OK.
package gateway

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/redisslot"
)

// OpenAISlotAcquireResult says whether an account slot was taken.
type OpenAISlotAcquireResult int

const (
	OpenAISlotAcquireOK OpenAISlotAcquireResult = iota
	OpenAISlotAcquireFull
	OpenAISlotAcquireProfitVetoed
	OpenAISlotAcquireError
)

// AcquireAccountSlot returns a guard only with OpenAISlotAcquireOK.
func AcquireAccountSlot(ctx context.Context, lim *redisslot.Limiter, account string, vetoed bool) (func(), OpenAISlotAcquireResult) { // want AcquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	if vetoed {
		return nil, OpenAISlotAcquireProfitVetoed
	}
	_, rel, err := lim.TryAcquire(ctx, account, 4)
	if err != nil {
		if errors.Is(err, redisslot.ErrLimited) {
			return nil, OpenAISlotAcquireFull
		}
		return nil, OpenAISlotAcquireError
	}
	return rel, OpenAISlotAcquireOK
}

// acquireAgain passes AcquireAccountSlot's results on as they are.
func acquireAgain(ctx context.Context, lim *redisslot.Limiter) (func(), OpenAISlotAcquireResult) { // want acquireAgain:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	return AcquireAccountSlot(ctx, lim, "account:1", false)
}

// AcquireCode returns a guard with an untyped status code: 200 or 203.
func AcquireCode(ctx context.Context, busy bool) (int, func()) { // want AcquireCode:"returnsGuard\\[1\\] 1:\\{0=200\\|203\\}"
	switch {
	case busy:
		return 429, nil
	case ctx.Err() != nil:
		return 203, release.WrapOnDone(ctx, func() {})
	}
	return 200, release.WrapOnDone(ctx, func() {})
}

// ErrDegraded says a slot was taken on a degraded backend.
var ErrDegraded = errors.New("degraded")

// AcquireDegraded returns a guard with a non-nil error too: an error
// result says nothing here.
func AcquireDegraded(ctx context.Context, degraded bool) (func(), error) { // want AcquireDegraded:"returnsGuard\\[0\\] 0:\\{1=\\?\\|nil\\}"
	rel := release.WrapOnDone(ctx, func() {})
	if degraded {
		return rel, ErrDegraded
	}
	return rel, nil
}

// AcquireMaybe returns a guard from another helper beside an error value
// where that helper's error is not nil: the guard is nil there, so the
// guard is returned with a nil error only.
func AcquireMaybe(ctx context.Context, lim *redisslot.Limiter) (func(), error) { // want AcquireMaybe:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := lim.TryAcquire(ctx, "account:3", 4)
	if err == redisslot.ErrLimited {
		return rel, ErrDegraded
	}
	return rel, err
}

// AcquireFollowed returns another helper's status through variables
// assigned once.
func AcquireFollowed(ctx context.Context, lim *redisslot.Limiter) (func(), OpenAISlotAcquireResult) { // want AcquireFollowed:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	rel, st := AcquireAccountSlot(ctx, lim, "account:2", false)
	return rel, st
}

// A local caller of a helper that passes results on.
func again(ctx context.Context, lim *redisslot.Limiter) {
	rel, st := acquireAgain(ctx, lim)
	if st != OpenAISlotAcquireOK {
		return
	}
	defer rel()
}
