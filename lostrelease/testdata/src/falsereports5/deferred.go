package falsereports5

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// acquireDeferred releases its named result in a deferred closure when it
// ends in an error, and returns it bare or by name.
func acquireDeferred(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireDeferred:"returnsGuard\\[0\\]"
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			rel()
		}
	}()
	if err = step(); err != nil {
		return
	}
	return rel, nil
}

// acquireHeldAside copies its named result to a local that a deferred
// closure, registered before the acquire, releases on an error.
func acquireHeldAside(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireHeldAside:"returnsGuard\\[0\\]"
	var held func()
	defer func() {
		if err != nil && held != nil {
			held()
		}
	}()
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	held = rel
	if err = step(); err != nil {
		return nil, err
	}
	return rel, nil
}

// acquireFirst tries each account in turn, its guard set in the loop and
// returned from it.
func acquireFirst(ctx context.Context, l slots.Limiter, accts []string) (release func(), st status) { // want acquireFirst:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st = statusFull
	for _, a := range accts {
		release, st = acquireAccountSlot(ctx, l, a)
		if st == statusOK {
			return release, st
		}
	}
	return nil, st
}

// acquireUntil breaks out of its loop with the guard and returns bare.
func acquireUntil(ctx context.Context, l slots.Limiter, accts []string) (release func(), st status) { // want acquireUntil:"returnsGuard\\[0\\]"
	st = statusFull
	for _, a := range accts {
		release, st = acquireAccountSlot(ctx, l, a)
		if st == statusOK {
			break
		}
	}
	return
}

// inLiteral returns the guard of a function literal's named result bare.
func inLiteral(ctx context.Context, l slots.Limiter) error {
	try := func() (rel func(), err error) {
		_, rel, err = l.TryAcquire(ctx, "k", 1)
		return
	}
	rel, err := try()
	if err != nil {
		return err
	}
	rel()
	return nil
}
