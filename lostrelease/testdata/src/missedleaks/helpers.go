package missedleaks

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// deferSetsStatus returns its guard with statusOK, then its deferred
// closure changes the named result to statusDraining, guard and all.
func deferSetsStatus(ctx context.Context, l slots.Limiter, draining bool) (rel func(), st status) { // want deferSetsStatus:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	defer func() {
		if draining {
			st = statusDraining
		}
	}()
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

func deferSetsStatusCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := deferSetsStatus(ctx, l, true) // want `the release function returned by deferSetsStatus is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// methodSetsNamed changes its named status through a pointer method
// before the bare return.
func methodSetsNamed(ctx context.Context, l slots.Limiter, draining bool) (rel func(), st status) { // want methodSetsNamed:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	var err error
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusFull
	}
	st.degrade(draining)
	return
}

func methodSetsNamedCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := methodSetsNamed(ctx, l, true) // want `the release function returned by methodSetsNamed is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// deferredMethodSetsNamed defers the pointer method: it runs after the
// return statement has set st to statusOK.
func deferredMethodSetsNamed(ctx context.Context, l slots.Limiter, draining bool) (rel func(), st status) { // want deferredMethodSetsNamed:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	defer st.degrade(draining)
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

func deferredMethodSetsNamedCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := deferredMethodSetsNamed(ctx, l, true) // want `the release function returned by deferredMethodSetsNamed is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// spareOnPanic returns nil with statusFull when the call fails, but its
// deferred closure may then put a spare guard in the named result.
func spareOnPanic(ctx context.Context, l slots.Limiter, spare func()) (rel func(), st status) { // want spareOnPanic:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	defer func() {
		if recover() != nil {
			rel = spare
		}
	}()
	_, r, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusFull
	}
	_ = step()
	return r, statusOK
}
