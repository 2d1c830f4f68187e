package missedleaks4

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Named results that look like copies of the call's error but are not, on
// the path that reads them.

// acquireMaybeChecked sets ok only when asked to check: otherwise ok is
// still false, and the granted slot is dropped.
func acquireMaybeChecked(ctx context.Context, l slots.Limiter, check bool) (release func(), ok bool) { // want acquireMaybeChecked:"returnsGuard\\[0\\]"
	_, release, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if check {
		ok = err == nil
	}
	if !ok {
		return nil, false // want `this return statement may be reached without using the release function release defined on line 15`
	}
	return
}

// acquireFallback2 tries a second key when the first is refused, but ok
// still holds the first key's outcome.
func acquireFallback2(ctx context.Context, l slots.Limiter) (release func(), ok bool) { // want acquireFallback2:"returnsGuard\\[0\\]"
	_, release, err := l.TryAcquire(ctx, "a", 1)
	ok = err == nil
	if !ok {
		_, release, err = l.TryAcquire(ctx, "b", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if !ok {
			return nil, false // want `this return statement may be reached without using the release function release defined on line 31`
		}
	}
	return
}
