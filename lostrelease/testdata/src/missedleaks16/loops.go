package missedleaks16

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// A failover over a slice of structs that forwards to the element after
// the defer, and goes round when that failed: every failed backend's slot
// is held until the function returns.
func failoverStructs(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		rel, err := acquireRoute(ctx, l, b)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forward(ctx, b) == nil {
			return nil
		}
	}
	return errGaveUp
}

// The same reading the slot's ctx and a field of the element.
func failoverSlotCtxAndField(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		sctx, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if forwardTo(sctx, b.key) == nil {
			return nil
		}
	}
	return errGaveUp
}

// A retry whose call takes a struct from outside the loop: each iteration
// asks for the same slot.
func retrySameRoute(ctx context.Context, l slots.Limiter, keys []routeKey, primary routeKey) error {
	for range keys {
		rel, err := acquireRoute(ctx, l, primary)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// A pointer element passed as it is: the helper may change the element it
// points at, and two elements may point at the same key.
func holdRoutePointers(ctx context.Context, l slots.Limiter, keys []*routeKey) error {
	for _, k := range keys {
		rel, err := acquireRouteOf(ctx, l, k)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// An interface element passed as it is: what it names is up to its
// method.
func holdKeyers(ctx context.Context, l slots.Limiter, keys []keyer) error {
	for _, k := range keys {
		rel, err := acquireKeyer(ctx, l, k)
		if err != nil {
			return err
		}
		defer rel() // want `deferred in a loop`
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return serve()
}

// A failover that defers before the helper's error is checked and goes
// round while the error says the backend failed: the error comes from the
// guard's call, but is not the slot's ctx.
func failoverOnError(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		rel, err := acquireRoute(ctx, l, b)
		defer rel() // want `deferred in a loop`
		if err == nil {
			return nil
		}
	}
	return errGaveUp
}

// A failover that sends on the connection the helper returned beside the
// guard: it works with the element while holding its slot.
func failoverOnConn(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		c, rel, err := dialRoute(ctx, l, b)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if c.send() == nil {
			return nil
		}
	}
	return errGaveUp
}

// A failover that forwards on a ctx carrying the element, made by another
// call than the guard's.
func failoverOnBackendCtx(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		bctx := withBackend(ctx, b)
		_, rel, err := l.TryAcquire(bctx, b.key, b.limit)
		if err != nil {
			continue
		}
		defer rel() // want `deferred in a loop`
		if proxy(bctx) == nil {
			return nil
		}
	}
	return errGaveUp
}

// The slot's ctx, assigned again to carry the element, forwards to it.
func failoverSlotCtxAssigned(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		sctx, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		sctx = withBackend(sctx, b)
		defer rel() // want `deferred in a loop`
		if proxy(sctx) == nil {
			return nil
		}
	}
	return errGaveUp
}

// The same with the element stored through the slot ctx's address.
func failoverSlotCtxAddressed(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		sctx, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		setBackend(&sctx, b)
		defer rel() // want `deferred in a loop`
		if proxy(sctx) == nil {
			return nil
		}
	}
	return errGaveUp
}

// A ctx made from the slot's by another call, carrying the element, is
// not the slot's ctx.
func failoverDerivedCtx(ctx context.Context, l slots.Limiter, backends []routeKey) error {
	for _, b := range backends {
		sctx, rel, err := l.TryAcquire(ctx, b.key, b.limit)
		if err != nil {
			continue
		}
		bctx := withBackend(sctx, b)
		defer rel() // want `deferred in a loop`
		if proxy(bctx) == nil {
			return nil
		}
	}
	return errGaveUp
}
