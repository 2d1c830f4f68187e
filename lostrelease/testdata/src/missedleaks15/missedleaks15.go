// Package missedleaks15 holds leaks in the gateway's shapes that
// lostrelease must report.
package missedleaks15

import (
	"context"
	"errors"
)

type routeKey struct {
	key   string
	limit int
}

var errGaveUp = errors.New("gave up")

func serve() error { return nil }

func forward(ctx context.Context, key string) error { return ctx.Err() }
