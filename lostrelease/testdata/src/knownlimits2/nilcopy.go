package knownlimits2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// haveCopy reads rel != nil through a bool assigned once, where it is
// declared, as a status condition is read through its copy.
func haveCopy(ctx context.Context, l slots.Limiter) error {
	rel, _ := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	have := rel != nil
	if !have {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}
