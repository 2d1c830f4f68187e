package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/slots"
	"github.com/redis/go-redis/v9"
)

// redisInstances is how many gateway instances share Redis with -redis.
const redisInstances = 2

// redisCallTimeout bounds each check the example makes on Redis itself.
const redisCallTimeout = 5 * time.Second

// A backend is where the slots live: one [slots.Local] for one instance in
// process, or, with Redis, one [redisslot.Limiter] per instance, each with a
// client of its own, all sharing one Redis under a key prefix of this run.
type backend struct {
	name     string          // for the summary
	limiters []slots.Limiter // one per gateway instance
	clients  []*redis.Client // nil in process
	prefix   string          // Redis key prefix of this run
	bgErrs   errorLog        // the Limiters' background errors
	outages  *outageWatch    // nil in process
}

func newBackend(ctx context.Context, cfg config) (*backend, error) {
	if cfg.Redis == "" {
		l := slots.NewLocal(slots.LocalOptions{MaxWaiters: cfg.MaxWaiters})
		return &backend{name: "in process (slots.Local)", limiters: []slots.Limiter{l}}, nil
	}
	var id [4]byte
	_, _ = rand.Read(id[:]) // never fails on supported platforms
	b := &backend{
		name:   "Redis at " + cfg.Redis + " (redisslot)",
		prefix: "ctxguard-gateway-example:" + hex.EncodeToString(id[:]) + ":",
	}
	for range redisInstances {
		c := redis.NewClient(&redis.Options{
			Addr:                  cfg.Redis,
			ContextTimeoutEnabled: true, // every call ends at its ctx's deadline
			DialTimeout:           time.Second,
			ReadTimeout:           time.Second,
			WriteTimeout:          time.Second,
			MaxRetries:            1,
		})
		b.clients = append(b.clients, c)
		pctx, cancel := context.WithTimeout(ctx, redisCallTimeout)
		err := c.Ping(pctx).Err()
		cancel()
		if err != nil {
			_, _ = b.close()
			return nil, fmt.Errorf("no Redis at %s: %w", cfg.Redis, err)
		}
		opts := redisslot.Options{
			Prefix:     b.prefix,
			Lease:      10 * time.Second,
			MaxWaiters: cfg.MaxWaiters,
			OnError:    b.bgErrs.add,
		}
		if cfg.Fallback > 0 {
			opts.Fallback = func(string, int) int { return cfg.Fallback }
		}
		b.limiters = append(b.limiters, redisslot.New(c, opts))
	}
	b.outages = watchOutages(cfg.Redis)
	return b, nil
}

// stillHeld returns the keys that someone holds or waits for, as the first
// Limiter sees them (through Redis, the count is cluster-wide).
func (b *backend) stillHeld(ctx context.Context, keys []string) ([]slots.Load, error) {
	ctx, cancel := context.WithTimeout(ctx, redisCallTimeout)
	defer cancel()
	var held []slots.Load
	for _, k := range keys {
		n, err := b.limiters[0].InUse(ctx, k)
		if err != nil {
			return held, err
		}
		if n != 0 {
			held = append(held, slots.Load{Key: k, InUse: n})
		}
	}
	return held, nil
}

// close closes the Limiters, then lists the Redis keys left under the
// prefix, then closes the clients.
func (b *backend) close() (keysLeft []string, err error) {
	var errs []error
	for _, l := range b.limiters {
		errs = append(errs, l.Close())
	}
	if b.outages != nil {
		b.outages.stop()
	}
	if len(b.clients) > 0 && len(b.limiters) > 0 {
		keysLeft, err = scanPrefix(b.clients[0], b.prefix)
		errs = append(errs, err)
	}
	for _, c := range b.clients {
		errs = append(errs, c.Close())
	}
	return keysLeft, errors.Join(errs...)
}

// scanPrefix returns every key of c that starts with prefix.
func scanPrefix(c *redis.Client, prefix string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), redisCallTimeout)
	defer cancel()
	var keys []string
	iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return keys, fmt.Errorf("SCAN %s*: %w", prefix, err)
	}
	return keys, nil
}

// errorLog keeps a count of the errors it is given and the first few.
type errorLog struct {
	mu    sync.Mutex
	n     int
	first []error
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if len(e.first) < 3 {
		e.first = append(e.first, err)
	}
}

func (e *errorLog) get() (int, []error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n, slices.Clone(e.first)
}
