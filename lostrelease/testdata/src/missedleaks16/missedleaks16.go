// Package missedleaks16 holds leaks in the gateway's shapes that
// lostrelease must report.
package missedleaks16

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type routeKey struct {
	key   string
	limit int
}

// A keyer names a slot.
type keyer interface{ slotKey() string }

type backendKey struct{}

var errGaveUp = errors.New("gave up")

func serve() error { return nil }

// acquireRoute takes the slot of a route's key.
func acquireRoute(ctx context.Context, l slots.Limiter, k routeKey) (func(), error) { // want acquireRoute:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
	return rel, err
}

// acquireRouteOf takes the slot of the route k points at.
func acquireRouteOf(ctx context.Context, l slots.Limiter, k *routeKey) (func(), error) { // want acquireRouteOf:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
	return rel, err
}

// acquireKeyer takes the slot k names.
func acquireKeyer(ctx context.Context, l slots.Limiter, k keyer) (func(), error) { // want acquireKeyer:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, k.slotKey(), 1)
	return rel, err
}

// A conn is a backend's connection.
type conn struct{ addr string }

func (c conn) send() error { return nil }

// dialRoute takes the slot of a route's key and dials its backend.
func dialRoute(ctx context.Context, l slots.Limiter, k routeKey) (conn, func(), error) { // want dialRoute:"returnsGuard\\[1\\] 1:\\{2=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, k.key, k.limit)
	return conn{addr: k.key}, rel, err
}

// forward sends the request to the backend b.
func forward(ctx context.Context, b routeKey) error { return ctx.Err() }

// forwardTo sends the request to the backend at key.
func forwardTo(ctx context.Context, key string) error { return ctx.Err() }

// proxy sends the request to the backend that ctx carries.
func proxy(ctx context.Context) error {
	if _, ok := ctx.Value(backendKey{}).(string); !ok {
		return errGaveUp
	}
	return ctx.Err()
}

// withBackend returns ctx carrying b's key as the backend.
func withBackend(ctx context.Context, b routeKey) context.Context {
	return context.WithValue(ctx, backendKey{}, b.key)
}

// setBackend makes *ctx carry b's key as the backend.
func setBackend(ctx *context.Context, b routeKey) {
	*ctx = withBackend(*ctx, b)
}
