// Package missedleaks11 holds leaks that lostrelease misses or reports
// with the wrong words; the want on each is the report the analyzer
// should give.
package missedleaks11

import (
	"context"
	"time"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

// acquireUserSlot returns the user's slot with the ctx the Limiter gives
// it, in the Limiter's own idiom: ctx is assigned again.
func acquireUserSlot(ctx context.Context, l slots.Limiter, user string) (context.Context, func(), status) { // want acquireUserSlot:"returnsGuard\\[1\\] 1:\\{2=0\\} ctxOf\\[0\\]$"
	ctx, rel, err := l.TryAcquire(ctx, "user:"+user, 2)
	if err != nil {
		return ctx, nil, statusFull
	}
	return ctx, rel, statusOK
}

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}
