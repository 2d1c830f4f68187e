package missedleaks8

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// takeTwoSlots registers the first slot's release with t.Cleanup, then
// stores the second slot's release in rel through its address: the bare
// return hands on the second, which no Cleanup frees, so a caller that
// drops it leaks that slot.
func takeTwoSlots(t *testing.T, l slots.Limiter) (rel func()) { // want takeTwoSlots:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "user:a", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rel)
	takeInto(t, l, "user:b", &rel)
	return
}

func takeInto(t *testing.T, l slots.Limiter, key string, rel *func()) {
	_, r, err := l.TryAcquire(context.Background(), key, 1)
	if err != nil {
		t.Fatal(err)
	}
	*rel = r
}

func testTwoUsers(t *testing.T, l slots.Limiter) {
	takeTwoSlots(t, l) // want `the release function returned by takeTwoSlots is discarded`
}
