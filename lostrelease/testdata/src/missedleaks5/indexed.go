package missedleaks5

import (
	"context"
	"unsafe"

	"github.com/ctxguard/release/slots"
)

func step(ctx context.Context) error { return ctx.Err() }

// limits[0] is set to 0 between the two tests: the second may be false
// where the first was true, and rel is then lost. A condition that reads
// an element is not one that holds the same wherever it is tested.
func serveIndexed(ctx context.Context, l slots.Limiter, limits []int) error {
	var rel func()
	if limits[0] > 0 {
		var err error
		_, rel, err = l.TryAcquire(ctx, "k", limits[0]) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return err
		}
	}
	limits[0] = 0
	err := step(ctx)
	if limits[0] > 0 {
		rel()
	}
	return err // want `this return statement may be reached without using the release function rel defined on line 19`
}

// pad's declaration mentions held only in its type: it says nothing of
// held's value at the call, which busy set; the return under held leaks
// rel.
func servePadded(ctx context.Context, l slots.Limiter, busy func() bool) error {
	held := busy()
	var pad [unsafe.Sizeof(held)]byte
	_, rel, err := l.TryAcquire(ctx, "k", len(pad)) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	if held {
		return nil // want `this return statement may be reached without using the release function rel defined on line 38`
	}
	rel()
	held = false
	return step(ctx)
}
