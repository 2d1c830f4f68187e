package knownlimits4

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

// Not reported (a leak): a table test's wanted error may be nil: errors.Is(err, nil) is true only
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
		_, rel, err := l.TryAcquire(context.Background(), tc.key, 1)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("TryAcquire(%q) = %v, want %v", tc.key, err, tc.wantErr)
		}
		if tc.wantErr == nil {
			continue
		}
		rel()
	}
}
