package knownlimits3

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Not reported (a leak): a slot taken in the case "limited" of a switch on
// a parameter never assigned is taken to be held under mode == "limited",
// though a fallthrough from the case "strict" enters it too: with mode
// "strict", the slot is taken and `if mode == "limited"` skips its
// release.
func serveFallthrough(ctx context.Context, l slots.Limiter, mode string) error {
	var rel func()
	switch mode {
	case "strict":
		if err := work(ctx); err != nil {
			return err
		}
		fallthrough
	case "limited":
		var err error
		_, rel, err = l.TryAcquire(ctx, "k", 1)
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if mode == "limited" {
		rel()
	}
	return err
}

func work(ctx context.Context) error { return ctx.Err() }
