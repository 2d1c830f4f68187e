package knownlimits2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// Two-slot helpers with bare returns that give the user's slot back when
// the account's is refused, told by a case list or an ordered comparison:
// both guards come with statusOK only.

func acquireRouteCases(ctx context.Context, l slots.Limiter) (relU, relA func(), st status) { // want acquireRouteCases:"returnsGuard\\[0 1\\] 1:\\{2=0\\} ctxOf\\[-1 0\\]$"
	relU, st = acquireUserSlot(ctx, l, "u")
	if st != statusOK {
		return
	}
	relA, st = acquireAccountSlot(ctx, l, "a")
	switch st {
	case statusFull, statusBackend:
		relU()
		relU = nil
	}
	return
}

func routeCasesCaller(ctx context.Context, l slots.Limiter) error {
	relU, relA, st := acquireRouteCases(ctx, l) // want `the release function returned by acquireRouteCases is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function relU`
	}
	defer relU()
	defer relA()
	return step()
}

func acquireRouteOrdered(ctx context.Context, l slots.Limiter) (relU, relA func(), st status) { // want acquireRouteOrdered:"returnsGuard\\[0 1\\] 1:\\{2=0\\} ctxOf\\[-1 0\\]$"
	relU, st = acquireUserSlot(ctx, l, "u")
	if st != statusOK {
		return
	}
	relA, st = acquireAccountSlot(ctx, l, "a")
	if st > statusOK {
		relU()
		relU = nil
	}
	return
}

func routeOrderedCaller(ctx context.Context, l slots.Limiter) error {
	relU, relA, st := acquireRouteOrdered(ctx, l) // want `the release function returned by acquireRouteOrdered is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function relU`
	}
	defer relU()
	defer relA()
	return step()
}
