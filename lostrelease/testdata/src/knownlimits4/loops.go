package knownlimits4

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type routeKey struct {
	key   string
	limit int
}

// Reported (a false report): a request holds a slot of each of its route's keys (account,
// user, route) until the handler returns, on purpose: the defer in the
// loop over the keys is how it holds them all, as `for range n { defer
// rel() }` does. The return after the defer, when the client hung up,
// ends the function: the deferred releases run then, nothing is held
// longer than the function. The loop never retries a key.
func holdAllKeys(ctx context.Context, l slots.Limiter, keys []routeKey) error {
	for _, k := range keys {
		_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop: held until the function returns`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}
