package falsereports5

import (
	"context"
	"fmt"
	"log"

	"github.com/ctxguard/release/slots"
)

// A named err that a directly deferred function literal wraps is still the
// status of a local guard: the literal runs once the function has
// returned, so no path of it sees err change.

func handleWrapped(ctx context.Context, l slots.Limiter) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("handle: %w", err)
		}
	}()
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return err
	}
	defer rel()
	return step()
}

func handleWrappedInABlock(ctx context.Context, l slots.Limiter, verbose bool) (err error) {
	if verbose {
		defer func() {
			if err != nil {
				log.Print(err)
				err = fmt.Errorf("handle: %w", err)
			}
		}()
	}
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return err
	}
	rel()
	return nil
}
