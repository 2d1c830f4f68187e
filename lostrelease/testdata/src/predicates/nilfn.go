package predicates

import (
	"context"

	"github.com/ctxguard/release"
)

// A nil fn gives a nil guard: not a source.

func wrapNilDirect(ctx context.Context, fail func(string)) {
	rel := release.WrapOnDone(ctx, nil)
	if rel != nil {
		fail("want nil")
	}
}

func wrapCauseNilDirect(ctx context.Context, fail func(string)) {
	rel := release.WrapOnDoneCause(ctx, nil)
	if rel != nil {
		fail("want nil")
	}
}

func wrapNotNil(ctx context.Context, fail func(string)) {
	rel := release.WrapOnDone(ctx, func() {}) // want `not used on all paths`
	if rel == nil {
		fail("want non-nil")
	}
} // want `this return statement may be reached without using the release function rel`

// acquireNilOnFailure returns a nil guard through a nil fn where it fails.
func acquireNilOnFailure(ctx context.Context, ok bool) (func(), slotStatus) { // want acquireNilOnFailure:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	if !ok {
		return release.WrapOnDone(ctx, nil), slotFailed
	}
	return release.WrapOnDone(ctx, func() {}), slotOK
}

func nilFnOnFailure(ctx context.Context, ok bool) {
	rel, st := acquireNilOnFailure(ctx, ok)
	if st == slotFailed {
		return
	}
	rel()
}

// Wrap passes its fn on: its guard is nil when fn is.
func Wrap(ctx context.Context, fn func()) func() { // want Wrap:"returnsGuard\\[0\\] nilIfNil\\[1\\]"
	return release.WrapOnDone(ctx, fn)
}

func wrapCause(ctx context.Context, fn func(error)) func() { // want wrapCause:"returnsGuard\\[0\\] nilIfNil\\[1\\]"
	return release.WrapOnDoneCause(ctx, fn)
}

// wrapAgain passes its fn on to Wrap.
func wrapAgain(fn func(), ctx context.Context) func() { // want wrapAgain:"returnsGuard\\[0\\] nilIfNil\\[0\\] ctxOf\\[1\\]$"
	if ctx == nil {
		return nil
	}
	return Wrap(ctx, fn)
}

// wrapDefault replaces a nil fn: its guard is never nil.
func wrapDefault(ctx context.Context, fn func()) func() { // want wrapDefault:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	if fn == nil {
		fn = work
	}
	return release.WrapOnDone(ctx, fn)
}

// wrapEither passes one of two fns on.
func wrapEither(ctx context.Context, fn, other func(), first bool) func() { // want wrapEither:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	if first {
		return release.WrapOnDone(ctx, fn)
	}
	return release.WrapOnDone(ctx, other)
}

func nilFnHelper(ctx context.Context, fail func(string)) {
	rel := Wrap(ctx, nil)
	if rel != nil {
		fail("want nil")
	}
}

func nilFnHelpers(ctx context.Context, fail func(string)) {
	rel := wrapAgain(nil, ctx)
	rel2 := wrapCause(ctx, nil)
	if rel != nil || rel2 != nil {
		fail("want nil")
	}
}

func nilFnDiscarded(ctx context.Context) {
	Wrap(ctx, nil)
}

func nonNilFnHelper(ctx context.Context, fail func(string)) {
	rel := Wrap(ctx, work) // want `not used on all paths`
	if rel == nil {
		fail("want non-nil")
	}
} // want `this return statement may be reached without using the release function rel`

func nilFnReplaced(ctx context.Context, fail func(string)) {
	rel := wrapDefault(ctx, nil) // want `not used on all paths`
	if rel == nil {
		fail("want non-nil")
	}
} // want `this return statement may be reached without using the release function rel`

func nilFnOneOfTwo(ctx context.Context, fail func(string)) {
	rel := wrapEither(ctx, nil, work, false) // want `not used on all paths`
	if rel == nil {
		fail("want non-nil")
	}
} // want `this return statement may be reached without using the release function rel`

func nilOtherOfTwo(ctx context.Context, fail func(string)) {
	rel := wrapEither(ctx, work, nil, true) // want `not used on all paths`
	if rel == nil {
		fail("want non-nil")
	}
} // want `this return statement may be reached without using the release function rel`

// Noop does nothing: a release to hand out when there is none.
func Noop() {}
