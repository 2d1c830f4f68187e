package knownlimits4

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type routeKey struct {
	key   string
	limit int
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

// acquireBackend takes the slot of a backend's key, and returns the ctx
// that ends when the slot is lost, carrying the backend.
func acquireBackend(ctx context.Context, l slots.Limiter, b routeKey) (context.Context, func(), error) { // want acquireBackend:"returnsGuard\\[1\\] 1:\\{2=nil\\} ctxOf\\[0\\]$"
	sctx, rel, err := l.TryAcquire(ctx, b.key, b.limit)
	return context.WithValue(sctx, backendPool{}, b), rel, err
}

// proxy sends the request to the backend that ctx carries.
func proxy(ctx context.Context) error {
	if _, ok := ctx.Value(backendPool{}).(routeKey); !ok {
		return ctx.Err()
	}
	return nil
}

// Not reported (a missed leak): a failover whose helper hides the element
// in the ctx it returns beside the guard. That ctx, declared by the
// guard's call, is taken for the slot's, which tells nothing of the
// element: a failed backend's slot is held until the function returns.
func failoverInSlotCtx(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		bctx, rel, err := acquireBackend(ctx, l, b)
		if err != nil {
			continue
		}
		defer rel()
		if proxy(bctx) == nil {
			return nil
		}
	}
	return nil
}
