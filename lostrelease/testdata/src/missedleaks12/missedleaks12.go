// Package missedleaks12 holds leaks in the gateway's shapes that
// lostrelease does not report today; each carries the want it should get.
package missedleaks12

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

// A table test's wanted error may be nil: errors.Is(err, nil) is true only
// where err is nil, and the slot granted. The analyzer takes
// errors.Is(err, v) with a variable v as true only where err is not nil,
// so past the t.Fatalf the guard is taken as nil, and the continue that
// drops the granted slot where tc.wantErr == nil is not reported.
func testWantErrMaybeNil(t *testing.T, l slots.Limiter) {
	cases := []struct {
		key     string
		wantErr error
	}{{"free", nil}, {"full", slots.ErrFull}}
	for _, tc := range cases {
		_, rel, err := l.TryAcquire(context.Background(), tc.key, 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("TryAcquire(%q) = %v, want %v", tc.key, err, tc.wantErr)
		}
		if tc.wantErr == nil {
			continue // want `this continue statement may lead back to line 24`
		}
		rel()
	}
}
