package main

import (
	"context"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
)

// redislockTTL is the lock's TTL: far longer than any hold.
const redislockTTL = 30 * time.Second

// redislockInstance is a bsm/redislock Client with its own go-redis
// client. A waiter polls every poll (LinearBackoff), as the hand-written
// design does.
type redislockInstance struct {
	client *redis.Client
	locks  *redislock.Client
	prefix string
	opts   *redislock.Options
	errs   *errorLog
}

func openRedislock(e env) (instance, error) {
	c := redis.NewClient(&redis.Options{Addr: e.addr})
	return &redislockInstance{
		client: c,
		locks:  redislock.New(c),
		prefix: e.prefix + "redislock:",
		opts:   &redislock.Options{RetryStrategy: redislock.LinearBackoff(e.poll)},
		errs:   e.errs,
	}, nil
}

// acquire takes the lock; limit is always 1 (the design is mutexOnly).
func (r *redislockInstance) acquire(ctx context.Context, key string, _ int) (func(), error) {
	lock, err := r.locks.Obtain(ctx, r.prefix+key, redislockTTL, r.opts)
	if err != nil {
		return nil, err
	}
	return func() { r.errs.add(lock.Release(context.Background())) }, nil
}

func (r *redislockInstance) close() error { return r.client.Close() }
