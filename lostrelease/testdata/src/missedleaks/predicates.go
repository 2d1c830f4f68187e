package missedleaks

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

var draining bool

// refused also refuses statusOK while draining, through a deferred closure
// that changes its named result: it is no predicate of st alone.
func (s status) refused() (r bool) {
	defer func() {
		if draining {
			r = true
		}
	}()
	return s != statusOK
}

func refusedCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	if st.refused() {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// httpCode answers 503 for every status while draining, through a deferred
// closure: it is no map of st alone.
func (s status) httpCode() (code int) {
	defer func() {
		if draining {
			code = 503
		}
	}()
	if s == statusOK {
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

// admitted changes its receiver through a pointer method before it
// compares it: it is no predicate of the status it was called on.
func (s status) admitted(draining bool) bool {
	s.degrade(draining)
	return s == statusOK
}

func admittedCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `the release function returned by acquireAccountSlot is not used on all paths`
	if !st.admitted(true) {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}
