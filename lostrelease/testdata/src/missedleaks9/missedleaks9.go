// Package missedleaks9 holds leaks that lostrelease misses or reports with
// the wrong words; the want on each is the report the analyzer should
// give.
package missedleaks9

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if errors.Is(err, slots.ErrFull) || err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}
