package knownlimits2

import (
	"context"
	"log"

	"github.com/ctxguard/release/slots"
)

// acquireLogged holds its guard in a named result, and drops it when the
// step after the acquire fails, as a function without the deferred
// recover is reported for. A function literal that calls recover leaves
// the named results unchecked: a leak not reported.
func acquireLogged(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireLogged:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	defer func() {
		if r := recover(); r != nil {
			log.Print(r)
		}
	}()
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	if err := step(); err != nil {
		return nil, err
	}
	return rel, nil
}
