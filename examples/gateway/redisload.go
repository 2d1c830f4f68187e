package main

// TEMPORARY, until redisslot has (*Limiter).Load: then delete this file and,
// in backend.go, append l itself instead of redisLimiter{l}.

import (
	"context"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/slots"
)

// redisLimiter gives a [redisslot.Limiter] the Load method of
// [slots.Limiter]: the holders of each key by InUse, and Waiting 0.
type redisLimiter struct{ *redisslot.Limiter }

var _ slots.Limiter = redisLimiter{}

func (l redisLimiter) Load(ctx context.Context, keys ...string) ([]slots.Load, error) {
	loads := make([]slots.Load, len(keys))
	for i, k := range keys {
		n, err := l.InUse(ctx, k)
		if err != nil {
			return nil, err
		}
		loads[i] = slots.Load{Key: k, InUse: n}
	}
	return loads, nil
}
