package falsereports8

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Not reported: must, a closure over err, panics when TryAcquire failed,
// so the defer is reached only with a release that is not nil.
func serveMust(ctx context.Context, l slots.Limiter, acct string) error {
	var err error
	must := func() {
		if err != nil {
			panic(err)
		}
	}
	var rel func()
	_, rel, err = l.TryAcquire(ctx, acct, 4)
	must()
	defer rel()
	return work(ctx)
}

// Not reported: the error is checked before the guard is copied, so the
// copy deferred at once is not nil.
func serveRenamed(ctx context.Context, l slots.Limiter, acct string) error {
	_, rel, err := l.TryAcquire(ctx, acct, 4)
	if err != nil {
		return err
	}
	releaseAccount := rel
	defer releaseAccount()
	return work(ctx)
}
