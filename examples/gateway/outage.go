package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// watchEvery is how often an outageWatch asks Redis whether it answers.
const watchEvery = 50 * time.Millisecond

// An outageWatch tells, for the summary, whether Redis answers now: it
// PINGs it every watchEvery on a client of its own, and keeps how long it
// did not answer in all. It holds one goroutine until stop.
type outageWatch struct {
	down    atomic.Bool
	downFor atomic.Int64 // nanoseconds Redis did not answer, in all
	seen    atomic.Bool  // Redis did not answer at least once

	stop func()
}

// watchOutages starts watching the Redis at addr.
func watchOutages(addr string) *outageWatch {
	c := redis.NewClient(&redis.Options{
		Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		DialTimeout: watchEvery, ReadTimeout: watchEvery, WriteTimeout: watchEvery,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	w := &outageWatch{}
	w.stop = func() {
		cancel()
		wg.Wait()
		_ = c.Close()
	}
	wg.Go(func() { w.run(ctx, c) })
	return w
}

func (w *outageWatch) run(ctx context.Context, c *redis.Client) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, watchEvery)
		down := c.Ping(pctx).Err() != nil && ctx.Err() == nil
		cancel()
		now := time.Now()
		if down {
			w.seen.Store(true)
			w.downFor.Add(int64(now.Sub(last)))
		}
		w.down.Store(down)
		last = now
	}
}

// isDown reports whether Redis did not answer the last PING; false for a
// nil watch (no Redis).
func (w *outageWatch) isDown() bool { return w != nil && w.down.Load() }
