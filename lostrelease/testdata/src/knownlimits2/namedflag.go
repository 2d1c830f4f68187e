package knownlimits2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquireSwitched presets its named status, sets it in a switch on the
// error, then returns early on it: a status set in a branch is no copy of
// the error, so the early return is reported, though st is statusOK
// wherever the guard is held.
func acquireSwitched(ctx context.Context, l slots.Limiter) (release func(), st status) { // want acquireSwitched:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st = statusBackend
	_, release, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	switch {
	case err == nil:
		st = statusOK
	case errors.Is(err, slots.ErrFull):
		st = statusFull
	}
	if st != statusOK {
		return nil, st // want `this return statement may be reached without using the release function release defined on line 16`
	}
	return
}
