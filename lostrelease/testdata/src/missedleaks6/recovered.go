package missedleaks6

import (
	"context"
	"fmt"

	"github.com/ctxguard/release/slots"
)

func check(ctx context.Context) {
	if ctx.Err() != nil {
		panic("check: ctx done")
	}
}

// probeRecovered gives its slot back before it returns nil, but a panic
// between the take and the release is recovered, and the function then
// returns its named result as it is: holding the guard.
func probeRecovered(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want probeRecovered:"returnsGuard"
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("probe: %v", r)
		}
	}()
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	check(ctx)
	rel()
	return nil, nil
}

// Reported: after a recovered panic the dropped result holds the slot.
func useProbeRecovered(ctx context.Context, l slots.Limiter) error {
	_, err := probeRecovered(ctx, l) // want `the release function returned by probeRecovered is discarded`
	return err
}

// acquireKept returns nil, but its deferred literal sets the named result
// back to the guard after the return.
func acquireKept(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireKept:"returnsGuard"
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	kept := rel
	defer func() {
		if err == nil {
			rel = kept
		}
	}()
	return nil, err
}

// Reported: the slot the deferred literal hands out is dropped.
func useAcquireKept(ctx context.Context, l slots.Limiter) error {
	_, err := acquireKept(ctx, l) // want `the release function returned by acquireKept is discarded`
	return err
}
