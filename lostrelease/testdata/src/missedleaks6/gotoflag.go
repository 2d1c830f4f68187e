package missedleaks6

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Reported: held is true only on the first pass; the goto comes back to
// the acquire with held false, and that slot is never released.
func serveRetry(ctx context.Context, l slots.Limiter, acct string) error {
	held := true
	n := 0
retry:
	n++
	_, rel, err := l.TryAcquire(ctx, acct, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	if held {
		rel()
	}
	if n < 3 {
		held = false
		goto retry // want `this goto statement may lead back to line 16, which declares a new release function rel before the one it declared is used`
	}
	return nil // want `this return statement may be reached without using the release function rel defined on line 16`
}
