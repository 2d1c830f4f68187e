package falsereports14

import (
	"context"
	"testing"
)

// The return under t.Failed() is reached only when the test has
// already been marked failed (by t.Errorf here, or any earlier check), as
// on the paths through t.Errorf that the analyzer ends; a failed test does
// not need its slots back. Where the test has not failed both slots are
// released.
func testFailedReturn(t *testing.T, g *gateway) {
	relA, st := g.acquireAccountSlot(context.Background(), "a")
	if st != statusOK {
		t.Fatalf("account slot: %v", st)
	}
	relU, st := g.acquireUserSlot(context.Background(), "u")
	if st != statusOK {
		t.Errorf("user slot: %v", st)
	}
	if got := st.httpCode(); got != 200 {
		t.Errorf("httpCode = %d", got)
	}
	if t.Failed() {
		return
	}
	relU()
	relA()
}
