package knownlimits2

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Reported (a variable set in a branch is followed only if it is of a
// boolean, integer or string type): weight is 1 only where err was nil,
// so the return under weight == 0 leaks nothing, but a float is not
// followed.
func serveWeighted(ctx context.Context, l slots.Limiter) (float64, error) {
	weight := 0.0
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err == nil {
		weight = 1
	}
	if weight == 0 {
		return weight, err // want `this return statement may be reached without using the release function rel defined on line 15`
	}
	defer rel()
	return weight, nil
}
