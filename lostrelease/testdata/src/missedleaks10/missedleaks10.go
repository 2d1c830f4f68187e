// Package missedleaks10 holds leaks that lostrelease misses or reports
// with the wrong words; the want on each is the report the analyzer
// should give.
package missedleaks10

import (
	"context"
	"time"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusFull status = iota
	statusOK
)

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=1\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}
