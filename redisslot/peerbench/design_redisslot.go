package main

import (
	"context"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// redisslotInstance is a redisslot Limiter with its own go-redis client,
// at its defaults (Lease 30 s) but for the Prefix.
type redisslotInstance struct {
	client *redis.Client
	l      *redisslot.Limiter
}

func newRedisslot(e env, opts redisslot.Options) *redisslotInstance {
	c := redis.NewClient(&redis.Options{Addr: e.addr})
	opts.Prefix = e.prefix + "redisslot:"
	opts.OnError = e.errs.add
	return &redisslotInstance{client: c, l: redisslot.New(c, opts)}
}

func openRedisslot(e env) (instance, error) { return newRedisslot(e, redisslot.Options{}), nil }

func (r *redisslotInstance) acquire(ctx context.Context, key string, limit int) (func(), error) {
	_, release, err := r.l.Acquire(ctx, key, limit)
	return release, err
}

func (r *redisslotInstance) close() error {
	err := r.l.Close()
	if cerr := r.client.Close(); err == nil {
		err = cerr
	}
	return err
}

// settleTimeout bounds the wait for a Limiter's pending frees: on a healthy
// Redis they go in well under a second.
const settleTimeout = 10 * time.Second

// settle waits until every free is confirmed: Stats().PendingFrees is 0.
func (r *redisslotInstance) settle(ctx context.Context) error {
	return waitFor(ctx, settleTimeout, "redisslot's pending frees", func() bool {
		return r.l.Stats().PendingFrees == 0
	})
}

// releaseAndSettle releases every slot of releases and waits until their
// frees are confirmed.
func (r *redisslotInstance) releaseAndSettle(ctx context.Context, releases []func()) error {
	releaseAll(releases)
	return r.settle(ctx)
}
