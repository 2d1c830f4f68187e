// Package falsereports3 holds more correct code in the gateway's shapes:
// every guard is released on every path, so nothing here may be reported.
package falsereports3

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

func statusOf(err error) status { // want statusOf:"isPredicate maps:1=!nil,2=!$"
	if errors.Is(err, slots.ErrFull) {
		return statusFull
	}
	return statusBackend
}

func step() error { return nil }

func acquireUserSlot(ctx context.Context, l slots.Limiter, user string) (func(), status) { // want acquireUserSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, "user:"+user, 2)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}
