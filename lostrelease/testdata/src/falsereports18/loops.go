package falsereports18

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// A request holds a slot of each of its route's keys until the handler
// returns, on purpose: the defer in the loop over the keys is how it holds
// them all. The call takes the element itself, a key with its limit, so
// each iteration asks for the slot of its own key and never retries
// another's. The return after the defer, when the client hung up, ends the
// function: the deferred releases run then.
func holdRoutes(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		rel, err := acquireRoute(ctx, l, k)
		if err != nil {
			return err
		}
		defer rel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// The same reading, after the defer, the ctx the Limiter's call gave
// back: it ends when the slot is lost, and says nothing of which key the
// iteration took.
func holdKeysOnSlotCtx(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		ctx, rel, err := l.TryAcquire(ctx, k.key, k.limit)
		if err != nil {
			return err
		}
		defer rel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// The same through a helper that takes the element, an account, and
// returns the guard beside a status.
func holdAccountSlots(ctx context.Context, g *gateway, accts []account) error {
	for _, acct := range accts {
		rel, st := g.acquireAccountSlot(ctx, acct)
		if st != statusOK {
			return errFull
		}
		defer rel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// The same over a map of route name to key: each value is taken once.
func holdRouteMap(ctx context.Context, l slots.Limiter, routes map[string]routeKey) error {
	for _, k := range routes {
		rel, err := acquireRoute(ctx, l, k)
		if err != nil {
			return err
		}
		defer rel()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return serve()
}

// The same handing the slot's ctx, from a helper that takes the element,
// to a check after the defer: the check learns whether the slot is still
// held, not which key it is.
func holdRoutesCheckingSlot(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		sctx, rel, err := acquireRouteCtx(ctx, l, k)
		if err != nil {
			return err
		}
		defer rel()
		if err := check(sctx); err != nil {
			return err
		}
	}
	return serve()
}

// The same with the slot's ctx declared by a var statement.
func holdKeysOnSlotCtxVar(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		var sctx, rel, err = l.TryAcquire(ctx, k.key, k.limit)
		if err != nil {
			return err
		}
		defer rel()
		if sctx.Err() != nil {
			return sctx.Err()
		}
	}
	return serve()
}
