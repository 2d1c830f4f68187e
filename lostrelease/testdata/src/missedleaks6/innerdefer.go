package missedleaks6

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Reported: drop is deferred by the function, but also by the function
// literal called on the way, whose defer runs as the literal returns:
// held is false by `if held`, and the slot is never released.
func serveDropped(ctx context.Context, l slots.Limiter, acct string) error {
	held := true
	_, rel, err := l.TryAcquire(ctx, acct, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	drop := func() { held = false }
	defer drop()
	func() {
		defer drop()
		_ = work(ctx)
	}()
	if held {
		rel()
	}
	return nil // want `this return statement may be reached without using the release function rel defined on line 14`
}
