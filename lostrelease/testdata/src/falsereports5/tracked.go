package falsereports5

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// Variables set in branches where the call's result is known, then read:
// the paths follow them by the constants they are assigned.

func acquireLocalSwitch(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireLocalSwitch:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	st := statusBackend
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	switch {
	case err == nil:
		st = statusOK
	case errors.Is(err, slots.ErrFull):
		st = statusFull
	}
	if st != statusOK {
		return nil, st
	}
	return rel, st
}

func handleFlag(ctx context.Context, l slots.Limiter) error {
	granted := false
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err == nil {
		granted = true
	}
	if !granted {
		return err
	}
	defer rel()
	return step()
}

func handleFlagFromHelper(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireLocalSwitch(ctx, l)
	var code int
	switch st {
	case statusOK:
		code = 200
	case statusFull:
		code = 429
	default:
		code = 503
	}
	if code != 200 {
		return code
	}
	defer rel()
	return code
}
