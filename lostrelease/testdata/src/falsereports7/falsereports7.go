// Package falsereports7 holds correct code in the gateway's shapes whose
// slot is followed through variables set before or beside the call: none
// is reported. The comment on each case says why the code is correct.
package falsereports7

import (
	"context"

	"github.com/ctxguard/release/slots"
)

func work(ctx context.Context) error { return ctx.Err() }

// Not reported (tracked variables): held is true only where err was nil,
// that is where rel is not nil; skip, a bool copy of !held declared once
// and never assigned again, is true only where rel is nil, so the
// `return err` under it leaks nothing, and every other path calls rel.
// held is followed because a bool copy read in a condition reads it.
func serveCopiedFlag(ctx context.Context, l slots.Limiter, acct string) error {
	_, rel, err := l.TryAcquire(ctx, acct, 4)
	held := false
	if err == nil {
		held = true
	}
	err = work(ctx)
	skip := !held
	if skip {
		return err
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
