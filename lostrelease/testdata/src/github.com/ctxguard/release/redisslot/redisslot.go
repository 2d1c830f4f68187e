// Package redisslot is a stand-in for github.com/ctxguard/release/redisslot
// with the same Limiter methods. Each returns the result of WrapOnDone, so
// the analyzer derives their facts.
package redisslot

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
)

var ErrLimited = errors.New("redisslot: limit reached")

type Limiter struct{ held int }

func (l *Limiter) TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error) { // want TryAcquire:"returnsGuard\\[1\\]"
	if l.held >= limit {
		return ctx, nil, ErrLimited
	}
	l.held++
	return ctx, release.WrapOnDone(ctx, func() { l.held-- }), nil
}

func (l *Limiter) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) { // want Acquire:"returnsGuard\\[1\\]"
	for {
		sctx, rel, err := l.TryAcquire(ctx, key, limit)
		if err != ErrLimited {
			return sctx, rel, err
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
}
