// Package deferfirst registers a deferred closure before it assigns the
// guard the closure releases.
package deferfirst

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

func free() {}

func step() error { return errors.New("failed") }

// Not reported: the defer, registered first, uses the guard on every
// return.

func direct(ctx context.Context) error {
	var cur func()
	defer func() {
		if cur != nil {
			cur()
		}
	}()
	cur = release.WrapOnDone(ctx, free)
	return step()
}

func throughFuncVar(ctx context.Context) error {
	var cur func()
	releaseAll := func() {
		if cur != nil {
			cur()
		}
	}
	defer releaseAll()
	cur = release.WrapOnDone(ctx, free)
	if err := step(); err != nil {
		return err
	}
	return nil
}

func throughTwoFuncVars(ctx context.Context) error {
	var cur func()
	one := func() { cur() }
	all := func() { one() }
	defer all()
	cur = release.WrapOnDone(ctx, free)
	return step()
}

func inLoop(ctx context.Context, accounts []string) error {
	var cur func()
	defer func() {
		if cur != nil {
			cur()
		}
	}()
	for range accounts {
		cur = release.WrapOnDone(ctx, free)
		if err := step(); err != nil {
			return err
		}
		cur()
		cur = nil
	}
	return nil
}

// Reported.

func overwrittenAfterContinue(ctx context.Context, accounts []string) {
	var cur func()
	releaseAll := func() {
		if cur != nil {
			cur()
		}
	}
	defer releaseAll()
	for _, a := range accounts {
		cur = release.WrapOnDone(ctx, free) // want `not used on all paths`
		if a == "" {
			continue // want `this continue statement may lead to line 83, which overwrites the release function cur defined on line 83 before it is used`
		}
		cur()
	}
}

func deferAfter(ctx context.Context) error {
	var cur func()
	cur = release.WrapOnDone(ctx, free) // want `not used on all paths`
	if err := step(); err != nil {
		return err // want `may be reached without using the release function cur`
	}
	defer func() { cur() }()
	return nil
}

func deferOnOnePath(ctx context.Context, ok bool) error {
	var cur func()
	if ok {
		defer func() { cur() }()
	}
	cur = release.WrapOnDone(ctx, free) // want `not used on all paths`
	if err := step(); err != nil {
		return err // want `may be reached without using the release function cur`
	}
	cur()
	return nil
}

func overwritten(ctx context.Context) {
	rel := release.WrapOnDone(ctx, free) // want `not used on all paths`
	rel = release.WrapOnDone(ctx, free)  // want `this statement overwrites the release function rel defined on line 115 before it is used`
	rel()
}
