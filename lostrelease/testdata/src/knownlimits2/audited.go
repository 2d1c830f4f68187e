package knownlimits2

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// acquireAudited holds its guard in a named result, and drops it when the
// step after the acquire fails: a guard held in a named result is not
// checked in the function itself. A leak not reported.
func acquireAudited(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireAudited:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	if err := step(); err != nil {
		return nil, err
	}
	return rel, nil
}
