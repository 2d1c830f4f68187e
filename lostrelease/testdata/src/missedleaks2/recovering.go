package missedleaks2

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

var draining bool

// checkDraining panics while the gateway drains.
func checkDraining() {
	if draining {
		panic("draining")
	}
}

// granted returns false for statusOK when checkDraining panics: its
// recovering defer lets it return its zero value. It is no predicate of
// the status alone.
func (s status) granted() bool {
	defer func() { recover() }()
	if s != statusOK {
		return false
	}
	checkDraining()
	return true
}

func grantedCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	if !st.granted() {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// httpCode returns 0 for statusOK when checkDraining panics: it is no
// map of the status alone.
func (s status) httpCode() int {
	defer func() { recover() }()
	if s == statusOK {
		checkDraining()
		return 200
	}
	return 429
}

func httpCodeCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	if st.httpCode() != 200 {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}
