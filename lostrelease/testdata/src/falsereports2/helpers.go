package falsereports2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquirePresetOK sets its status to statusOK before the call, and only
// changes it where the call failed: the guard comes with statusOK only.
func acquirePresetOK(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquirePresetOK:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st := statusOK
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		st = statusOf(err)
		return nil, st
	}
	return rel, st
}

func handlePresetOK(ctx context.Context, l slots.Limiter) error {
	rel, st := acquirePresetOK(ctx, l, "a")
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}

// acquireNamedOK is the same with named results returned bare.
func acquireNamedOK(ctx context.Context, l slots.Limiter, account string) (rel func(), st status) { // want acquireNamedOK:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st = statusOK
	var err error
	_, rel, err = l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusOf(err)
	}
	return
}

func handleNamedOK(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireNamedOK(ctx, l, "a")
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}
