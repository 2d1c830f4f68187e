// Package falsereports7 holds correct code in the gateway's shapes that
// the analyzer reports: each report below is a false report, pinned with
// a want so that a fix can flip it. The comment on each case says why the
// code is correct.
package falsereports7

import (
	"context"

	"github.com/ctxguard/release/slots"
)

func work(ctx context.Context) error { return ctx.Err() }

// False report (tracked variables): held is true only where err was nil,
// that is where rel is not nil; skip, a bool copy of !held declared once
// and never assigned again, is true only where rel is nil, so the
// `return err` under it leaks nothing, and every other path calls rel.
// Written `if !held {` the same function is not reported: held is followed
// by value only when an if, for or switch condition reads it itself, and
// here only the copy's declaration does, so the copy narrows nothing.
func serveCopiedFlag(ctx context.Context, l slots.Limiter, acct string) error {
	_, rel, err := l.TryAcquire(ctx, acct, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	held := false
	if err == nil {
		held = true
	}
	err = work(ctx)
	skip := !held
	if skip {
		return err // want `this return statement may be reached without using the release function rel defined on line 23`
	}
	rel()
	return err
}

// Not reported: the same flag read by the condition itself.
func serveFlag(ctx context.Context, l slots.Limiter, acct string) error {
	_, rel, err := l.TryAcquire(ctx, acct, 4)
	held := false
	if err == nil {
		held = true
	}
	err = work(ctx)
	if !held {
		return err
	}
	rel()
	return err
}
