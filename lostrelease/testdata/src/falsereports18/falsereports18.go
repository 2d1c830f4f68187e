// Package falsereports18 holds correct code in the gateway's shapes that
// lostrelease must not report: the comment on each case says why the code
// is correct.
package falsereports18

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

type gateway struct {
	l slots.Limiter
}

// An account names a slot and its limit.
type account struct {
	name  string
	limit int
}

// acquireAccountSlot returns the account's slot with statusOK, and a nil
// release with any other status.
func (g *gateway) acquireAccountSlot(ctx context.Context, acct account) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := g.l.TryAcquire(ctx, "acct:"+acct.name, acct.limit)
	if err != nil {
		if errors.Is(err, slots.ErrFull) {
			return nil, statusFull
		}
		return nil, statusBackend
	}
	return rel, statusOK
}

type routeKey struct {
	key   string
	limit int
}

// acquireRoute takes the slot of a route's key.
func acquireRoute(ctx context.Context, l slots.Limiter, k routeKey) (func(), error) { // want acquireRoute:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
	return rel, err
}

// acquireRouteCtx takes the slot of a route's key, and returns the ctx
// that ends when the slot is lost.
func acquireRouteCtx(ctx context.Context, l slots.Limiter, k routeKey) (context.Context, func(), error) { // want acquireRouteCtx:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	return l.TryAcquire(ctx, k.key, k.limit)
}

var errFull = errors.New("full")

func serve() error { return nil }

// check reports whether the request may go on under ctx.
func check(ctx context.Context) error { return context.Cause(ctx) }
