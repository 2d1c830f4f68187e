package missedleaks2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquireCopy returns its guard through a copy into its named result.
func acquireCopy(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireCopy:"returnsGuard\\[0\\]"
	_, r, err := l.TryAcquire(ctx, "a", 1)
	rel = r
	return
}

func acquireCopyCaller(ctx context.Context, l slots.Limiter) error {
	_, err := acquireCopy(ctx, l) // want `the release function returned by acquireCopy is discarded`
	return err
}

// copyReadBeforeTheNextCall reads ok, a copy of the first status, in a
// loop that then takes a new slot into rel and st: on the second round ok
// says nothing of the st that goes with rel, and the return may drop the
// slot taken in the first round (and the second round's call overwrites
// that slot's guard too).
func copyReadBeforeTheNextCall(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a")
	ok := st == statusOK
	if ok {
		rel()
	}
	for i := range 2 {
		if i > 0 && !ok {
			return errors.New("refused") // want `this return statement may be reached without using the release function rel`
		}
		rel, st = acquireAccountSlot(ctx, l, "b") // want `the release function returned by acquireAccountSlot is not used on all paths` `this statement overwrites the release function rel`
	}
	if st == statusOK {
		rel()
	}
	return nil
}
