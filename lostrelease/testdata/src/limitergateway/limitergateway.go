// Package limitergateway takes slots through helpers over the
// slots.Limiter interface, as examples/gateway does: the guard is nil
// unless the status, a type of its own, is StatusOK.
package limitergateway

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// Status is the outcome of taking a slot.
type Status uint8

const (
	StatusOK Status = iota
	StatusFull
	StatusClosed
	StatusBackendError
)

func statusOf(err error) Status { // want statusOf:"isPredicate maps:1=!nil,2=!nil,3=!$"
	switch {
	case errors.Is(err, slots.ErrFull):
		return StatusFull
	case errors.Is(err, slots.ErrClosed):
		return StatusClosed
	}
	return StatusBackendError
}

// AcquireUserSlot returns a guard only with StatusOK.
func AcquireUserSlot(ctx context.Context, l slots.Limiter, user string) (context.Context, func(), Status) { // want AcquireUserSlot:"returnsGuard\\[1\\] 1:\\{2=0\\} ctxOf\\[0\\]$"
	sctx, release, err := l.Acquire(ctx, "user:"+user, 4)
	if err != nil {
		return nil, nil, statusOf(err)
	}
	return sctx, release, StatusOK
}

// Gateway holds its limiter in a field, as examples/gateway does.
type Gateway struct {
	limiter slots.Limiter
	limit   int
}

// acquireAccountSlot is a method over the field.
func (g *Gateway) acquireAccountSlot(ctx context.Context, account string) (context.Context, func(), Status) { // want acquireAccountSlot:"returnsGuard\\[1\\] 1:\\{2=0\\} ctxOf\\[0\\]$"
	sctx, release, err := g.limiter.TryAcquire(ctx, "account:"+account, g.limit)
	if err != nil {
		return nil, nil, statusOf(err)
	}
	return sctx, release, StatusOK
}

// TryAccount passes the method's results on.
func (g *Gateway) TryAccount(ctx context.Context, account string) (context.Context, func(), Status) { // want TryAccount:"returnsGuard\\[1\\] 1:\\{2=0\\}$"
	return g.acquireAccountSlot(ctx, account)
}

// Acquire passes the interface's results on: its error is nil whenever
// its guard may be non-nil.
func Acquire(ctx context.Context, l slots.Limiter, key string) (context.Context, func(), error) { // want Acquire:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	return l.TryAcquire(ctx, key, 1)
}

// A local caller that leaks on its second return.
func (g *Gateway) serve(ctx context.Context) error {
	sctx, rel, st := g.acquireAccountSlot(ctx, "a1") // want `returned by Gateway.acquireAccountSlot is not used on all paths`
	if st != StatusOK {
		return errors.New("no slot")
	}
	if sctx.Err() != nil {
		return sctx.Err() // want `without using the release function rel defined on line 70`
	}
	rel()
	return nil
}
