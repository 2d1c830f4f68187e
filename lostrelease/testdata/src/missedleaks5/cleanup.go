package missedleaks5

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release/slots"
)

// holdMaybe registers its release with t.Cleanup only when keep is set:
// a caller that drops what it returns leaks the slot when keep is false.
func holdMaybe(t *testing.T, l slots.Limiter, keep bool) func() { // want holdMaybe:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	if keep {
		t.Cleanup(rel)
	}
	return rel
}

func testDropsMaybe(t *testing.T, l slots.Limiter) {
	holdMaybe(t, l, false) // want `the release function returned by holdMaybe is discarded`
}

var errStep = errors.New("step failed")

// failNow's literal sets err; it is deferred, but also called on the way:
// err is then no status of rel, and the return after the call, which
// holds rel, is reported.
func failNow(ctx context.Context, l slots.Limiter) (err error) {
	fail := func() { err = errStep }
	defer fail()
	_, rel, err := l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	fail()
	if err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 36`
	}
	defer rel()
	return nil
}

// holdUnlessSkipped's goto jumps over the registration: a caller that
// drops what it returns with skip set leaks the slot.
func holdUnlessSkipped(t *testing.T, l slots.Limiter, skip bool) func() { // want holdUnlessSkipped:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	if skip {
		goto done
	}
	t.Cleanup(rel)
done:
	return rel
}

func testDropsSkipped(t *testing.T, l slots.Limiter) {
	holdUnlessSkipped(t, l, true) // want `the release function returned by holdUnlessSkipped is discarded`
}

// holdLate registers its release only after its early return: a caller
// that drops what it returns with early set leaks the slot.
func holdLate(t *testing.T, l slots.Limiter, early bool) func() { // want holdLate:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	if early {
		return rel
	}
	t.Cleanup(rel)
	return rel
}

func testDropsLate(t *testing.T, l slots.Limiter) {
	holdLate(t, l, true) // want `the release function returned by holdLate is discarded`
}

// suite's Cleanup is not testing's: it keeps nothing.
type suite struct{}

func (suite) Cleanup(func()) {}

func holdInSuite(s suite, l slots.Limiter) func() { // want holdInSuite:"returnsGuard\\[0\\]"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		return nil
	}
	s.Cleanup(rel)
	return rel
}

func testDropsInSuite(s suite, l slots.Limiter) {
	holdInSuite(s, l) // want `the release function returned by holdInSuite is discarded`
}

// holdLogged logs its release and registers nothing.
func holdLogged(t *testing.T, l slots.Limiter) func() { // want holdLogged:"returnsGuard\\[0\\]$"
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rel)
	return rel
}

func testDropsLogged(t *testing.T, l slots.Limiter) {
	holdLogged(t, l) // want `the release function returned by holdLogged is discarded`
}
