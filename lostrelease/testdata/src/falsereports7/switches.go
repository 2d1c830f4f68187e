package falsereports7

import (
	"context"

	"github.com/ctxguard/release/slots"
)

func lastOutcome(acct string) string { return acct }

// Not reported: outcome is set to its one constant only where err was nil,
// that is where rel is not nil; it is read as a string.
func serveOutcome(ctx context.Context, l slots.Limiter, acct string) error {
	outcome := lastOutcome(acct)
	_, rel, err := l.TryAcquire(ctx, acct, 4)
	if err == nil {
		outcome = "held"
	}
	if outcome != "held" {
		return err
	}
	defer rel()
	return work(ctx)
}

// Not reported: the flag read as a switch's tag.
func serveSwitchFlag(ctx context.Context, l slots.Limiter, acct string) error {
	_, rel, err := l.TryAcquire(ctx, acct, 4)
	held := false
	if err == nil {
		held = true
	}
	err = work(ctx)
	switch held {
	case false:
		return err
	}
	rel()
	return err
}

// Not reported: the flag read in a case of a switch without a tag.
func serveCaseFlag(ctx context.Context, l slots.Limiter, acct string) error {
	_, rel, err := l.TryAcquire(ctx, acct, 4)
	held := false
	if err == nil {
		held = true
	}
	err = work(ctx)
	switch {
	case !held:
		return err
	}
	rel()
	return err
}
