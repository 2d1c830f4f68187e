// Package missedleaks12 holds leaks in the gateway's tests that
// lostrelease must report.
package missedleaks12

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// A return under !t.Failed() is taken where the test has not failed: the
// slot granted there is dropped. Only the branch where t.Failed() is true
// ends a path as a failed test.
func testPassedReturn(t *testing.T, l slots.Limiter) {
	_, rel, err := l.TryAcquire(context.Background(), "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		t.Fatal(err)
	}
	if !t.Failed() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}
