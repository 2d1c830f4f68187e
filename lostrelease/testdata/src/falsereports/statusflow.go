package falsereports

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquireUserSlot sets its status in a switch on the error.
func acquireUserSlot(ctx context.Context, l slots.Limiter, user string) (func(), status) { // want acquireUserSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, user, 2)
	var st status
	switch {
	case err == nil:
		st = statusOK
	case errors.Is(err, slots.ErrFull):
		st = statusFull
	default:
		st = statusBackendError
	}
	return rel, st
}

func handleUser(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireUserSlot(ctx, l, "u")
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}

// acquireNamed returns its named results bare.
func acquireNamed(ctx context.Context, l slots.Limiter, account string) (rel func(), st status) { // want acquireNamed:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	var err error
	_, rel, err = l.TryAcquire(ctx, account, 4)
	if err != nil {
		st = statusOf(err)
		return
	}
	return
}

func handleNamed(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireNamed(ctx, l, "a")
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}

// handleOrdered refuses every status above statusOK.
func handleOrdered(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a")
	if st > statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}
