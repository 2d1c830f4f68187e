package knownlimits3

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// takeTwoSlots registers the first slot's release with t.Cleanup, then
// stores the second slot's release in rel through its address: the bare
// return hands on the second, which no Cleanup frees, so a caller that
// drops it leaks that slot. Not reported: a store through the address is
// not seen (a helper given `&rel` more likely only reads it).
func takeTwoSlots(t *testing.T, l slots.Limiter) (rel func()) {
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
	takeTwoSlots(t, l)
}
