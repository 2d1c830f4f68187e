package missedleaks14

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

type statusCase struct {
	acct string
	want status
}

var statusCases = []statusCase{{"a", statusOK}, {"b", statusFull}}

// tc.want is assigned between the check and the branch: where st is
// statusOK, the continue drops the slot.
func testWantAssignedAgain(t *testing.T, g *gateway) {
	for _, tc := range statusCases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st != tc.want {
			t.Fatalf("status = %v, want %v", st, tc.want)
		}
		tc.want = statusFull
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// A closure may change tc.want between the check and the branch.
func testWantChangedInClosure(t *testing.T, g *gateway) {
	for _, tc := range statusCases {
		expectFull := func() { tc.want = statusFull }
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st != tc.want {
			t.Fatalf("status = %v, want %v", st, tc.want)
		}
		expectFull()
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// t.Errorf does not end the test: past it, st may differ from tc.want,
// and the continue may drop a granted slot.
func testWantErrorf(t *testing.T, g *gateway) {
	for _, tc := range statusCases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st != tc.want {
			t.Errorf("status = %v, want %v", st, tc.want)
		}
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// The check ends the path only where strict.
func testWantCheckedInInnerIf(t *testing.T, g *gateway, strict bool) {
	for _, tc := range statusCases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if strict {
			if st != tc.want {
				t.Fatalf("status = %v, want %v", st, tc.want)
			}
		}
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// The branch on tc.want returns on the side where the slot is held.
func testWantHeldSideReturns(t *testing.T, g *gateway) {
	for _, tc := range statusCases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st != tc.want {
			t.Fatalf("status = %v, want %v", st, tc.want)
		}
		if tc.want == statusOK {
			t.Log("granted")
			continue // want `this continue statement may lead back`
		}
		if rel != nil {
			rel()
		}
	}
}

// A check with == whose failing side goes on: past it, st may differ
// from tc.want.
func testWantEqualGoesOn(t *testing.T, g *gateway) {
	for _, tc := range statusCases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st == tc.want {
			t.Logf("status %v as wanted", st)
		}
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// The check ends the path where st equals tc.avoid: past it st differs
// from tc.avoid, and where tc.avoid is statusFull, st may be statusOK.
func testAvoidEqualFatal(t *testing.T, g *gateway) {
	cases := []struct {
		acct  string
		avoid status
	}{{"a", statusFull}, {"b", statusOK}}
	for _, tc := range cases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st == tc.avoid {
			t.Fatalf("status = %v", st)
		}
		if tc.avoid != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// tc points into the table: adjust, given it, may change tc.want
// between the check and the branch.
func testWantThroughPointer(t *testing.T, g *gateway, adjust func(*statusCase)) {
	for i := range statusCases {
		tc := &statusCases[i]
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if st != tc.want {
			t.Fatalf("status = %v, want %v", st, tc.want)
		}
		adjust(tc)
		if tc.want != statusOK {
			continue // want `this continue statement may lead back`
		}
		rel()
	}
}

// The return is under !tc.wantOK or a second test: where the account is
// "b" and st is statusOK, it drops the slot.
func testWantOKOrOther(t *testing.T, g *gateway) {
	cases := []struct {
		acct   string
		wantOK bool
	}{{"a", true}, {"b", true}}
	for _, tc := range cases {
		rel, st := g.acquireAccountSlot(context.Background(), tc.acct) // want `not used on all paths`
		if (st == statusOK) != tc.wantOK {
			t.Fatalf("status = %v, want ok %v", st, tc.wantOK)
		}
		if !tc.wantOK || tc.acct == "b" {
			return // want `this return statement may be reached without using the release function rel`
		}
		rel()
	}
}

// The return is under !wantFull: there err is nil and the slot granted.
func testGotWantFullHeldSide(t *testing.T, l slots.Limiter) {
	for _, wantFull := range []bool{false, true} {
		_, rel, err := l.TryAcquire(context.Background(), "k", 1) // want `not used on all paths`
		if got := errors.Is(err, slots.ErrFull); got != wantFull {
			t.Fatalf("full = %v, want %v", got, wantFull)
		}
		if !wantFull {
			return // want `this return statement may be reached without using the release function rel`
		}
		if rel != nil {
			rel()
		}
	}
}
