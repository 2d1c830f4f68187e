package missedleaks6

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Reported: the statement that copies the guard to rel sets held to
// false, so `if held` never releases it.
func serveHeldFlag(ctx context.Context, l slots.Limiter, acct string) error {
	var rel func()
	held := true
	_, r, err := l.TryAcquire(ctx, acct, 4)
	if err != nil {
		return err
	}
	rel, held = r, false // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	err = work(ctx)
	if held {
		rel()
	}
	return err // want `this return statement may be reached without using the release function rel defined on line 18`
}
