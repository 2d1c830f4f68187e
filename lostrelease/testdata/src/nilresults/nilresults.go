// Package nilresults holds helpers with a named release result that
// every return sets to nil: they return no guard, and a caller that drops
// what they return leaks nothing. Nothing may be reported.
package nilresults

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// probe takes a slot to see that one is free, gives it back, and returns
// nil in its place.
func probe(ctx context.Context, l slots.Limiter) (rel func(), err error) {
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	rel()
	return nil, nil
}

func checkCapacity(ctx context.Context, l slots.Limiter) error {
	_, err := probe(ctx, l)
	return err
}

// holdForTest registers the slot's release with t.Cleanup and returns nil.
func holdForTest(t *testing.T, l slots.Limiter) (rel func()) {
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rel)
	return nil
}

func testHeld(t *testing.T, l slots.Limiter) {
	holdForTest(t, l)
}
