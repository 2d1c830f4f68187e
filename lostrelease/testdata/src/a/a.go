package a

import (
	"context"
	"errors"
	guard "github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

// Reported: the result is discarded.

func discarded(ctx context.Context) {
	guard.WrapOnDone(ctx, free) // want `the release function returned by WrapOnDone is discarded \(the guarded resource leaks until ctx is done\)`
}

func blank(ctx context.Context) {
	_ = guard.WrapOnDone(ctx, free)     // want `is discarded`
	var _ = guard.WrapOnDone(ctx, free) // want `is discarded`
}

func goAndDefer(ctx context.Context) {
	go guard.WrapOnDone(ctx, free)    // want `is discarded`
	defer guard.WrapOnDone(ctx, free) // want `is discarded`
}

func inClosure(ctx context.Context) func() {
	return func() {
		guard.WrapOnDone(ctx, free) // want `is discarded`
	}
}

// Reported: a path to a return does not use the variable.

func earlyReturn(ctx context.Context) error {
	release := guard.WrapOnDone(ctx, free) // want `the release function returned by WrapOnDone is not used on all paths \(the guarded resource leaks until ctx is done\)`
	if err := step(); err != nil {
		return err // want `this return statement may be reached without using the release function release defined on line 38`
	}
	release()
	return nil
}

func fallsOffTheEnd(ctx context.Context, ok bool) {
	var release = guard.WrapOnDone(ctx, free) // want `not used on all paths`
	if ok {
		release()
	}
} // want `this return statement may be reached without using the release function release defined on line 47`

func reassigned(ctx context.Context) {
	var release func()
	release = guard.WrapOnDone(ctx, free) // want `not used on all paths`
	for range 3 {
		if step() != nil {
			return // want `may be reached without using the release function release`
		}
	}
	release()
}

func closurePath(ctx context.Context) func() error {
	return func() error {
		done := guard.WrapOnDone(ctx, free) // want `not used on all paths`
		if step() != nil {
			return nil // want `without using the release function done`
		}
		defer done()
		return step()
	}
}

// Not reported: the release function is used on every path.

func deferred(ctx context.Context) error {
	release := guard.WrapOnDone(ctx, free)
	defer release()
	return step()
}

func calledAtOnce(ctx context.Context) {
	guard.WrapOnDone(ctx, free)()
	defer guard.WrapOnDone(ctx, free)()
}

func returned(ctx context.Context) func() { // want returned:"returnsGuard\\[0\\]"
	return guard.WrapOnDone(ctx, free)
}

func returnedVar(ctx context.Context) func() { // want returnedVar:"returnsGuard\\[0\\]"
	release := guard.WrapOnDone(ctx, free)
	return release
}

func handOff(func()) {}

func passedOn(ctx context.Context) {
	handOff(guard.WrapOnDone(ctx, free))
	release := guard.WrapOnDone(ctx, free)
	handOff(release)
}

func everyPath(ctx context.Context, ok bool) error {
	release := guard.WrapOnDone(ctx, free)
	if ok {
		release()
		return nil
	}
	if err := step(); err != nil {
		release()
		return err
	}
	release()
	return nil
}

type server struct {
	release  func()
	releases []func()
}

func stored(ctx context.Context, s *server) {
	s.release = guard.WrapOnDone(ctx, free)
	s.releases = append(s.releases, guard.WrapOnDone(ctx, free))
	release := guard.WrapOnDone(ctx, free)
	s.releases = append(s.releases, release)
	rs := []func(){guard.WrapOnDone(ctx, free)}
	_ = rs
}

func captured(ctx context.Context) {
	release := guard.WrapOnDone(ctx, free)
	go func() {
		defer release()
		_ = step()
	}()
}

var global func()

func toGlobal(ctx context.Context) {
	global = guard.WrapOnDone(ctx, free)
}

func outer(ctx context.Context) {
	var release func()
	func() {
		release = guard.WrapOnDone(ctx, free) // declared outside this closure
	}()
	release()
}

func panicPath(ctx context.Context, ok bool) {
	release := guard.WrapOnDone(ctx, free)
	if !ok {
		panic("no return on this path")
	}
	release()
}
