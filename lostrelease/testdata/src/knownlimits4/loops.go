package knownlimits4

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type routeKey struct {
	key   string
	limit int
}

// acquireRoute takes the slot of a route's key.
func acquireRoute(ctx context.Context, l slots.Limiter, k routeKey) (func(), error) { // want acquireRoute:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
	return rel, err
}

// Reported (a false report): each iteration takes a slot of its own key,
// but the call takes the element of a struct type, not a string read
// from it.
func holdRoutes(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		rel, err := acquireRoute(ctx, l, k)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// Reported (a false report): the ctx the Limiter gives back is declared
// in the body and read after the defer.
func holdKeysOnSlotCtx(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		ctx, rel, err := l.TryAcquire(ctx, k.key, k.limit)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

type backendPool struct{ cur routeKey }

func (p *backendPool) setCurrent(b routeKey) { p.cur = b }

func (p *backendPool) forward(ctx context.Context) error { return ctx.Err() }

// Not reported (a missed leak): a failover that keeps its element behind
// a call before the acquire and works with it after the defer, holding a
// failed backend's slot until the function returns.
func failoverBehindCall(ctx context.Context, l slots.Limiter, p *backendPool, backends []routeKey) error {
	for _, b := range backends {
		p.setCurrent(b)
		_, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel()
		if p.forward(ctx) == nil {
			return nil
		}
	}
	return nil
}
