// Package predicates checks that a call of a status predicate, a function
// or method whose body is a single return of a condition on its status,
// narrows the status as the condition would: AcquireSlot returns a guard
// with slotOK and slotOKAfterWait only.
package predicates

import (
	"context"
	"net/http"

	"github.com/ctxguard/release"
	"predicatetypes"
)

type slotStatus int

const (
	slotOK slotStatus = iota
	slotOKAfterWait
	slotFailed
	slotSwitch
)

func (s slotStatus) granted() bool { return s == slotOK || s == slotOKAfterWait } // want granted:"isPredicate true:0\\|1 false:!0\\|1"

// Failed is exported so that another package may call it.
func (s slotStatus) Failed() bool { return !(s == slotOK || s == slotOKAfterWait) } // want Failed:"isPredicate true:!0\\|1 false:0\\|1"

func isOK(s slotStatus) bool { return s == slotOK } // want isOK:"isPredicate true:0 false:!0"

func isWaited(s slotStatus) bool { return (s != slotOK && s == 1) } // want isWaited:"isPredicate true:1 false:!1"

// onlyOK covers slotOK alone: slotOKAfterWait also comes with a guard.
func (s slotStatus) onlyOK() bool { return s == slotOK } // want onlyOK:"isPredicate true:0 false:!0"

var strict bool

// grantedTwoSteps returns true only with slotOK or slotOKAfterWait, and
// false with any value, when strict.
func (s slotStatus) grantedTwoSteps() bool { // want grantedTwoSteps:"isPredicate true:0\\|1 false:!$"
	if strict {
		return false
	}
	return s == slotOK || s == slotOKAfterWait
}

// grantedIfStrict reads other state: not a predicate.
func (s slotStatus) grantedIfStrict() bool { return s == slotOK || s == slotOKAfterWait || strict }

// grantedAndStrict reads other state: not a predicate, though its true
// branch alone would say something of s.
func (s slotStatus) grantedAndStrict() bool { return s == slotOK && strict }

// sameAs has a second operand: not a predicate.
func sameAs(s, t slotStatus) bool { return s == t }

// grantedPtr reads through a pointer: not a predicate.
func (s *slotStatus) grantedPtr() bool { return *s == slotOK || *s == slotOKAfterWait }

// AcquireSlot returns a guard with slotOK or slotOKAfterWait.
func AcquireSlot(ctx context.Context, mode int) (func(), slotStatus) { // want AcquireSlot:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}"
	switch mode {
	case 0:
		return release.WrapOnDone(ctx, func() {}), slotOK
	case 1:
		return release.WrapOnDone(ctx, func() {}), slotOKAfterWait
	case 2:
		return nil, slotSwitch
	}
	return nil, slotFailed
}

func work() {}

// Not reported: the predicate says the guard is nil on each return
// without a use.

func predicateMethod(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if !st.granted() {
		return
	}
	defer rel()
	work()
}

func predicateFunc(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if isOK(st) || isWaited(st) {
		defer rel()
		work()
		return
	}
	work()
}

func predicateNegated(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if st.Failed() {
		return
	}
	rel()
}

func predicateWithOther(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if st.granted() && ctx.Err() == nil {
		rel()
		return
	}
	if st.granted() {
		rel()
	}
}

func predicateCopy(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	ok := st.granted()
	if !ok {
		return
	}
	rel()
}

func predicateParens(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if !(st.granted()) {
		return
	}
	rel()
}

// Reported: the predicate leaves a value with a guard, or is not read as
// one.

func predicateMissesOne(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !st.onlyOK() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateTwoStatements(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !st.grantedTwoSteps() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateReadsState(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !st.grantedIfStrict() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateAndState(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !st.grantedAndStrict() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateTwoArgs(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !sameAs(st, slotOK) {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicatePointer(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !st.grantedPtr() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateAfterReassign(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	st = slotFailed
	if st.granted() {
		rel()
	}
} // want `this return statement may be reached without using the release function rel`

func predicateOnOtherStatus(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	_, st2 := AcquireSlot(ctx, mode)  // want `discarded`
	_ = st
	if !st2.granted() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateOnConversion(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !slotStatus(int(st)).granted() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func predicateWrongWay(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if st.granted() {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// AcquireCode returns a guard with predicatetypes.OK only.
func AcquireCode(ctx context.Context, busy bool) (func(), predicatetypes.Code) { // want AcquireCode:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	if busy {
		return nil, predicatetypes.Busy
	}
	return release.WrapOnDone(ctx, work), predicatetypes.OK
}

// shouldRetry writes nothing for a status it does not retry: false comes
// with slotOK too.
func shouldRetry(w http.ResponseWriter, s slotStatus) bool { // want shouldRetry:"isPredicate true:3 false:!3 param:1"
	switch s {
	case slotSwitch:
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	return false
}

func predicateWithWriter(w http.ResponseWriter, ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if !shouldRetry(w, st) {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// grantedFirstTry returns true only with slotOK: its condition is read
// where the path has found slotOK or slotOKAfterWait.
func (s slotStatus) grantedFirstTry() bool { // want grantedFirstTry:"isPredicate true:0 false:!0"
	if s == slotOK || s == slotOKAfterWait {
		return s != slotOKAfterWait
	}
	return false
}

// normalized assigns its status: not a predicate.
func normalized(s slotStatus) bool {
	if s == slotOKAfterWait {
		s = slotOK
	}
	return s == slotOK
}

// code maps slotFailed to 500, and every other status to 200.
func (s slotStatus) code() int { // want code:"isPredicate maps:200=!2,500=2"
	if s == slotFailed {
		return 500
	}
	return 200
}

// Not reported: 500 comes only with slotFailed, and so does a code of 300
// or more.
func mappedCode(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if st.code() == 500 {
		return
	}
	if c := st.code(); c >= 300 {
		return
	}
	if 300 <= st.code() {
		return
	}
	rel()
}

// Not reported: a code other than 200 is 500, which comes only with
// slotFailed.
func mappedCodeElse(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode)
	if st.code() == 200 {
		rel()
		return
	}
}

// A code other than 500 comes with slotOK too.
func mappedCodeWrongWay(ctx context.Context, mode int) {
	rel, st := AcquireSlot(ctx, mode) // want `not used on all paths`
	if st.code() != 500 {
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

// grantedUnlessPanic assigns its named result in a deferred call: not a
// predicate, as what it returns is not what its return statement says.
func (s slotStatus) grantedUnlessPanic() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = true
		}
	}()
	return s == slotOK
}
