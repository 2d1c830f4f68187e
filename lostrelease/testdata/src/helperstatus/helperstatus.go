// Package helperstatus checks what a helper's fact says of a status set
// apart from the return that gives it, followed along the paths on which
// the guard may be held: the values it may hold there, and no fact of
// values where one is not known.
package helperstatus

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

type status uint8

const (
	statusOK status = iota
	statusFull
	statusBackendError
)

func statusOf(error) status { return statusBackendError }

// setInSwitch gives the guard only with statusOK: the other cases are
// reached only when err is not nil.
func setInSwitch(ctx context.Context, l slots.Limiter) (func(), status) { // want setInSwitch:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	var st status
	switch {
	case err == nil:
		st = statusOK
	case errors.Is(err, slots.ErrFull):
		st = statusFull
	default:
		st = statusOf(err)
	}
	return rel, st
}

// overridden may give the guard with statusFull.
func overridden(ctx context.Context, l slots.Limiter, busy bool) (func(), status) { // want overridden:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	st := statusOK
	if err != nil {
		st = statusOf(err)
	}
	if busy {
		st = statusFull
	}
	return rel, st
}

// namedZero gives the guard with its status never assigned: statusOK.
func namedZero(ctx context.Context, l slots.Limiter) (rel func(), st status) { // want namedZero:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	var err error
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		st = statusOf(err)
		return
	}
	return
}

// namedUnknown gives the guard with a status a call returns: nothing is
// known of it.
func namedUnknown(ctx context.Context, l slots.Limiter) (rel func(), st status) { // want namedUnknown:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	_, rel, _ = l.TryAcquire(ctx, "k", 1)
	st = statusOf(nil)
	return
}

// inLoop sets its status to statusFull before the call on a later round:
// the guard may come with its zero value or statusFull.
func inLoop(ctx context.Context, l slots.Limiter, keys []string) (rel func(), st status) { // want inLoop:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}"
	for _, k := range keys {
		var err error
		_, rel, err = l.TryAcquire(ctx, k, 1)
		if err == nil {
			return
		}
		st = statusFull
	}
	return nil, st
}

// overwritten gives a guard that a closure may replace: not followed.
func overwritten(ctx context.Context, l slots.Limiter) (func(), status) { // want overwritten:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	st := statusFull
	if err == nil {
		st = statusOK
	}
	func() { st = statusFull }()
	return rel, st
}

// releasedOnBusy gives the guard up, and nil, when busy: statusFull
// comes only with nil.
func releasedOnBusy(ctx context.Context, l slots.Limiter, busy bool) (func(), status) { // want releasedOnBusy:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	st := statusOK
	if err != nil {
		st = statusOf(err)
	}
	if busy && rel != nil {
		rel()
		rel = nil
		st = statusFull
	}
	return rel, st
}

type pool struct{ spare func() }

// fromSpare may give a guard it did not take here, with statusFull: its
// guard variable is assigned more than guards and nil, so nothing is known.
func fromSpare(ctx context.Context, l slots.Limiter, p *pool) (func(), status) { // want fromSpare:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	st := statusOK
	if err != nil {
		rel, st = p.spare, statusFull
	}
	return rel, st
}

// passOn hands overridden's guard on only with statusOK: the condition on
// the way narrows overridden's statusOK or statusFull.
func passOn(ctx context.Context, l slots.Limiter) (func(), status) { // want passOn:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	rel, st := overridden(ctx, l, false)
	if st == statusFull {
		rel()
		return nil, statusFull
	}
	return rel, st
}

// acquireOrFail ends the test rather than give statusFull.
func acquireOrFail(t testing.TB, l slots.Limiter, busy bool) (func(), status) { // want acquireOrFail:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	st := statusOK
	if err != nil {
		st = statusOf(err)
	}
	if busy {
		st = statusFull
		t.Fatal("busy")
	}
	return rel, st
}

// preset sets its status before the call: the guard comes with
// statusFull, not with its zero value.
func preset(ctx context.Context, l slots.Limiter) (rel func(), st status) { // want preset:"returnsGuard\\[0\\] 0:\\{1=1\\}"
	st = statusFull
	var err error
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return
	}
	return
}

// ranged gives the last status of a range loop.
func ranged(ctx context.Context, l slots.Limiter, sts []status) (func(), status) { // want ranged:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusFull
	}
	var st status
	for _, st = range sts {
	}
	return rel, st
}

// checkedAgain tests its status again before the return: the test cannot
// hold while the guard is, as st holds statusOK there.
func checkedAgain(ctx context.Context, l slots.Limiter) (func(), status) { // want checkedAgain:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st := statusOK
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusOf(err)
	}
	if st != statusOK {
		st = statusBackendError
	}
	return rel, st
}

func step() error { return nil }

func overriddenCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := overridden(ctx, l, true) // want `the release function returned by overridden is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

func namedUnknownCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := namedUnknown(ctx, l) // want `the release function returned by namedUnknown is not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// orderedBelow returns with statusOK, which is below statusFull, while the
// guard is held.
func orderedBelow(ctx context.Context, l slots.Limiter) error {
	rel, st := setInSwitch(ctx, l) // want `the release function returned by setInSwitch is not used on all paths`
	if st < statusFull {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// orderedAbove refuses every status from statusFull up: not reported.
func orderedAbove(ctx context.Context, l slots.Limiter) error {
	rel, st := setInSwitch(ctx, l)
	if statusFull <= st {
		return errors.New("refused")
	}
	defer rel()
	return step()
}

// orderedWrongWay keeps the slot only when refused, and leaks it when
// granted.
func orderedWrongWay(ctx context.Context, l slots.Limiter) error {
	rel, st := setInSwitch(ctx, l) // want `the release function returned by setInSwitch is not used on all paths`
	if st >= statusFull {
		defer rel()
		return step()
	}
	return nil // want `this return statement may be reached without using the release function rel`
}
