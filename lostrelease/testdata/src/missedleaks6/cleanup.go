package missedleaks6

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// holdTwo registers the first slot's release with t.Cleanup, then takes a
// second slot into the same variable and returns it: nothing frees the
// second slot but its caller.
func holdTwo(t *testing.T, l slots.Limiter) func() { // want holdTwo:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "a", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rel)
	_, rel, err = l.TryAcquire(context.Background(), "b", 1)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// Reported: the second slot is dropped.
func testHoldTwo(t *testing.T, l slots.Limiter) {
	holdTwo(t, l) // want `the release function returned by holdTwo is discarded`
}
