package missedleaks5

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// holdMaybe registers its release with t.Cleanup only when keep is set:
// a caller that drops what it returns leaks the slot when keep is false.
func holdMaybe(t *testing.T, l slots.Limiter, keep bool) func() { // want holdMaybe:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	if keep {
		t.Cleanup(rel)
	}
	return rel
}

func testDropsMaybe(t *testing.T, l slots.Limiter) {
	holdMaybe(t, l, false) // want `the release function returned by holdMaybe is discarded`
}
