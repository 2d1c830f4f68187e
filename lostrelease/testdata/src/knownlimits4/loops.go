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
