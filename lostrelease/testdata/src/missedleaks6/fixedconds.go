package missedleaks6

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Reported: the inner limited is a new variable, not the parameter the
// slot was taken under; where work fails it is false, and the slot is
// never released.
func serveShadowed(ctx context.Context, l slots.Limiter, acct string, limited bool) error {
	if limited {
		_, rel, err := l.TryAcquire(ctx, acct, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return err
		}
		limited := work(ctx) == nil
		if limited {
			rel()
		}
		return nil // want `this return statement may be reached without using the release function rel defined on line 14`
	}
	return nil
}
