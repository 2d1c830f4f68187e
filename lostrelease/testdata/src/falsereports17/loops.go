package falsereports17

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// A request holds a slot of each of its route's keys (account, user,
// route) until the handler returns, on purpose: the defer in the loop over
// the keys is how it holds them all, as `for range n { defer rel() }`
// does. The return after the defer, when the client hung up, ends the
// function: the deferred releases run then, nothing is held longer than
// the function. Each iteration asks for the slot of its own key: the loop
// never retries a key.
func holdAllKeys(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
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

// The same through a helper that returns the guard beside a status: each
// iteration takes the slot of its own key's account.
func holdAccountSlots(ctx context.Context, g *gateway, keys []routeKey) error {
	for _, k := range keys {
		rel, st := g.acquireAccountSlot(ctx, k.account)
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

// The same over a map of key to limit: each key is taken once.
func holdLimits(ctx context.Context, l slots.Limiter, limits map[string]int) error {
	for key, limit := range limits {
		_, rel, err := l.TryAcquire(ctx, key, limit)
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

// The same leaving the loop by a break, with the key read through an index
// of the range's key: the function returns past the loop, and the deferred
// releases run then.
func holdUntilHangUp(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for i := range keys {
		_, rel, err := l.TryAcquire(ctx, "route:"+keys[i].key, keys[i].limit)
		if err != nil {
			return err
		}
		defer rel()
		if ctx.Err() != nil {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return serve()
}
