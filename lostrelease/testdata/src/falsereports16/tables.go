package falsereports16

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

// A table test. Past the t.Fatalf, st == tc.want; the continue is under
// tc.want != statusOK, where st is not statusOK and rel is nil.
func testTableWantStatus(t *testing.T, g *gateway) {
	cases := []struct {
		acct string
		want status
	}{{"a", statusOK}, {"b", statusFull}}
	for _, tc := range cases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct)
		if st != tc.want {
			t.Fatalf("status = %v, want %v", st, tc.want)
		}
		if tc.want != statusOK {
			continue
		}
		rel()
	}
}

// The same with a switch on the wanted status, after a check that
// returns.
func testTableWantSwitch(t *testing.T, g *gateway, want status) {
	rel, st := g.acquireAccountSlot(context.Background(), "a")
	if want != st {
		t.Errorf("status = %v, want %v", st, want)
		return
	}
	switch want {
	case statusFull, statusBackend:
		return
	}
	rel()
}

// The same with a bool. Past the t.Fatalf, st == statusOK exactly when
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
			rel, st := g.acquireAccountSlot(context.Background(), tc.acct)
			if (st == statusOK) != tc.wantOK {
				t.Fatalf("status = %v, want ok %v", st, tc.wantOK)
			}
			if !tc.wantOK {
				return
			}
			rel()
		})
	}
}

// The same on a Limiter's error. Past the t.Fatalf, err is ErrFull
// exactly when wantFull; the return under wantFull has err not nil, so
// rel nil.
func testGotWantFull(t *testing.T, l slots.Limiter) {
	for _, wantFull := range []bool{false, true} {
		_, rel, err := l.TryAcquire(context.Background(), "k", 1)
		if got := errors.Is(err, slots.ErrFull); got != wantFull {
			t.Fatalf("full = %v, want %v", got, wantFull)
		}
		if wantFull {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rel)
	}
}
