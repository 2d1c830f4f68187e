// Package missedleaks7 holds leaks in the gateway's shapes that lostrelease
// does not report today. Each want is the report the analyzer should give.
package missedleaks7

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

var errFull = errors.New("full")

func work(ctx context.Context) error { return ctx.Err() }

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	switch {
	case err == nil:
		return rel, statusOK
	case errors.Is(err, slots.ErrFull):
		return nil, statusFull
	default:
		return nil, statusBackend
	}
}

func acquireUserSlot(ctx context.Context, l slots.Limiter, user string) (context.Context, func(), status) { // want acquireUserSlot:"returnsGuard\\[1\\] 1:\\{2=0\\} ctxOf\\[0\\]$"
	sctx, rel, err := l.Acquire(ctx, "user:"+user, 2)
	if err != nil {
		return ctx, nil, statusFull
	}
	return sctx, rel, statusOK
}
