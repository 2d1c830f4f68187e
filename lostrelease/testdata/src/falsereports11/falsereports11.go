// Package falsereports11 holds correct code in the gateway's shapes that
// lostrelease reports today: the comment on each case says why the code
// is correct. None carries a want for the report it gets.
package falsereports11

import (
	"context"
	"errors"
	"time"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

// granted reports whether a slot was given.
func (s status) granted() bool { return s == statusOK } // want granted:"isPredicate true:0 false:!0"

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if errors.Is(err, slots.ErrFull) || err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}
