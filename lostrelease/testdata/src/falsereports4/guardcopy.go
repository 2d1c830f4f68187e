package falsereports4

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquireHeld returns a copy of its guard beside the status variable:
// the guard is non-nil only with statusOK, as with `return rel, st`.
func acquireHeld(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireHeld:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	rel, st := acquireAccountSlot(ctx, l, "a")
	if st != statusOK {
		return nil, st
	}
	held := rel
	return held, st
}

func acquireHeldCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireHeld(ctx, l)
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}

// acquireGranted hands its guard on only when granted, through a variable
// declared nil: the guard is non-nil only with statusOK.
func acquireGranted(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireGranted:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	var release func()
	rel, st := acquireAccountSlot(ctx, l, "a")
	if st == statusOK {
		release = rel
	}
	return release, st
}

func acquireGrantedCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireGranted(ctx, l)
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}
