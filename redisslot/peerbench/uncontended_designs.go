package main

import (
	"context"
	"errors"

	"github.com/ctxguard/release/redisslot"
)

// redisslotOps alternates TryAcquire and Acquire, each with its release.
type redisslotOps struct{ *redisslotInstance }

func openRedisslotOps(e env) (opInstance, error) {
	return redisslotOps{newRedisslot(e, redisslot.Options{})}, nil
}

func (r redisslotOps) op(ctx context.Context, key string, i int) error {
	take := r.l.TryAcquire
	if i%2 == 1 {
		take = r.l.Acquire
	}
	_, release, err := take(ctx, key, 1)
	if err != nil {
		return err
	}
	release()
	return nil
}

// handOps alternates one try of the script (the TryAcquire of the design)
// and its polling acquire, each with its ZREM.
type handOps struct{ *handInstance }

func openHandOps(e env) (opInstance, error) { return handOps{newHandWritten(e)}, nil }

var errHandFull = errors.New("peerbench: the hand-written design found an uncontended key full")

func (h handOps) op(ctx context.Context, key string, i int) error {
	take := h.try
	if i%2 == 1 {
		take = h.acquire
	}
	release, err := take(ctx, key, 1)
	if err == nil && release == nil {
		err = errHandFull
	}
	if err != nil {
		return err
	}
	release()
	return nil
}

func (handOps) settle(context.Context) error { return nil } // its release is synchronous

// noopOps runs two no-op EVALSHA per op, one after the other.
type noopOps struct{ *handInstance }

func openNoopOps(e env) (opInstance, error) { return noopOps{newHandWritten(e)}, nil }

func (n noopOps) op(ctx context.Context, key string, _ int) error {
	keys := []string{n.prefix + key}
	if err := noop.Run(ctx, n.client, keys).Err(); err != nil {
		return err
	}
	return noop.Run(ctx, n.client, keys).Err()
}

func (noopOps) settle(context.Context) error { return nil }
