package falsereports8

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// holdSlot registers its release with t.Cleanup, through a function
// literal, by a statement of its own body before the return: the test
// frees the slot when it ends.
func holdSlot(t *testing.T, l slots.Limiter, key string) func() {
	t.Helper()
	_, rel, err := l.TryAcquire(context.Background(), key, 1)
	if err != nil {
		t.Fatalf("TryAcquire: %v", err)
	}
	t.Cleanup(func() { rel() })
	return rel
}

// Not reported: holdSlot's cleanup frees the slot.
func testHoldSlot(t *testing.T, l slots.Limiter) {
	holdSlot(t, l, "k")
}
