package knownlimits4

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

// Reported (a false report): a table test. Past the t.Fatalf, st == statusOK exactly when
// tc.wantOK; so where !tc.wantOK returns, st is not statusOK and rel is
// nil.
func testTableWantOK(t *testing.T, g *gateway) {
	cases := []struct {
		name   string
		acct   string
		wantOK bool
	}{{"free", "a", true}, {"full", "b", false}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
			if (st == statusOK) != tc.wantOK {
				t.Fatalf("status = %v, want ok %v", st, tc.wantOK)
			}
			if !tc.wantOK {
				return // want `this return statement may be reached without using the release function rel`
			}
			rel()
		})
	}
}

// Reported (a false report): the same with the wanted status. Past the t.Fatalf, st ==
// tc.want; the continue is under tc.want != statusOK, where rel is nil.
func testTableWantStatus(t *testing.T, g *gateway) {
	cases := []struct {
		acct string
		want status
	}{{"a", statusOK}, {"b", statusFull}}
	for _, tc := range cases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st != tc.want {
			t.Fatalf("status = %v, want %v", st, tc.want)
		}
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// Reported (a false report): the same on a Limiter's error. Past the t.Fatalf, err is
// ErrFull exactly when wantFull; the return under wantFull has err not
// nil, so rel nil.
func testGotWantFull(t *testing.T, l slots.Limiter) {
	for _, wantFull := range []bool{false, true} {
		_, rel, err := l.TryAcquire(context.Background(), "k", 1) // want `not used on all paths`
		if got := errors.Is(err, slots.ErrFull); got != wantFull {
			t.Fatalf("full = %v, want %v", got, wantFull)
		}
		if wantFull {
			return // want `this return statement may be reached without using the release function rel`
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rel)
	}
}

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
