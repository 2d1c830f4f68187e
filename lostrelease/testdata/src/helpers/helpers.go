// Package helpers returns guards from functions and methods of every shape
// the analyzer follows, and of the shapes it does not.
package helpers

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

var errBusy = errors.New("busy")

func free() {}

// AcquireUser returns a guard directly, with an error.
func AcquireUser(ctx context.Context, busy bool) (func(), error) { // want AcquireUser:"returnsGuard\\[0\\]"
	if busy {
		return nil, errBusy
	}
	return release.WrapOnDone(ctx, free), nil
}

// AcquireUserSlot returns a guard through a local variable, with a bool.
func AcquireUserSlot(ctx context.Context) (func(), bool) { // want AcquireUserSlot:"returnsGuard\\[0\\]"
	rel := release.WrapOnDoneCause(ctx, func(error) {})
	return rel, true
}

// AcquireAccount returns the guard of another helper, in the middle of its
// results.
func AcquireAccount(ctx context.Context) (context.Context, func(), error) { // want AcquireAccount:"returnsGuard\\[1\\]"
	rel, err := AcquireUser(ctx, false)
	if err != nil {
		return ctx, nil, err
	}
	return ctx, rel, nil
}

// AcquireAgain returns the results of a third helper as they are.
func AcquireAgain(ctx context.Context) (context.Context, func(), error) { // want AcquireAgain:"returnsGuard\\[1\\]"
	return AcquireAccount(ctx)
}

// acquireUser calls a helper declared after it.
func acquireUser(ctx context.Context) func() { // want acquireUser:"returnsGuard\\[0\\]"
	return acquireLater(ctx)
}

func acquireLater(ctx context.Context) func() { // want acquireLater:"returnsGuard\\[0\\]"
	return release.WrapOnDone(ctx, free)
}

// AcquireNamed assigns its named result.
func AcquireNamed(ctx context.Context) (rel func(), err error) { // want AcquireNamed:"returnsGuard\\[0\\]"
	rel = release.WrapOnDone(ctx, free)
	return
}

// Pair returns two guards.
func Pair(ctx context.Context) (func(), func()) { // want Pair:"returnsGuard\\[0 1\\]"
	return release.WrapOnDone(ctx, free), release.WrapOnDone(ctx, free)
}

// Guarded is generic.
func Guarded[T any](ctx context.Context, v T) (T, func()) { // want Guarded:"returnsGuard\\[1\\]"
	return v, release.WrapOnDone(ctx, free)
}

type Pool struct{}

// Get is a method.
func (p *Pool) Get(ctx context.Context) (func(), error) { // want Get:"returnsGuard\\[0\\]"
	return release.WrapOnDone(ctx, free), nil
}

// Wrapped returns a closure that wraps a guard: no fact.
func Wrapped(ctx context.Context) func() {
	rel := release.WrapOnDone(ctx, free)
	return func() { rel() }
}

// Passed returns a func it was given: no fact.
func Passed(rel func()) func() { return rel }

// An Acquirer's method has no body to read: no fact.
type Acquirer interface {
	Acquire(ctx context.Context) (func(), error)
}

// A caller in the same package.
func handle(ctx context.Context) error {
	acquireUser(ctx) // want `the release function returned by acquireUser is discarded \(the guarded resource leaks until ctx is done\)`
	return nil
}
