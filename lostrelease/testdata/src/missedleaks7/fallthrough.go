package missedleaks7

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// A slot taken in the case "limited" of a switch on a parameter never
// assigned is held under mode == "limited" only if that case's body is
// not reached by a fallthrough: with mode "strict", the case "strict"
// falls through, the slot is taken, and `if mode == "limited"` skips its
// release. The condition a case stands for does not hold where a
// fallthrough enters it.
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
		_, rel, err = l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return err
		}
	}
	err := work(ctx)
	if mode == "limited" {
		rel()
	}
	return err // want `this return statement may be reached without using the release function rel defined on line 25`
}
