package redisslot_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 5, a lease counted from the last renewal Redis confirmed, with
// Redis healthy: one emptied script cache (a restart that kept the data, a
// failover, SCRIPT FLUSH) has a round run at once, and that is all. Here a
// gateway's load goes on beside a long holder: two workers take and release
// slots of other keys without pause, their acquires overlapping as those of
// concurrent requests do (each reply comes back once the other worker's next
// acquire is on its way), and each round's reply comes back once a few of
// those acquires have come back. Redis's script cache is emptied once.
// Every renewal of the holder's lease is then answered by a healthy Redis;
// the holder must keep its slot past its life.
func TestOneEmptiedScriptCacheUnderLoadLeavesTheRoundsConfirming(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	raw := srv.Client(t)
	life := redisslot.Life(f.l)

	var overlap atomic.Bool // the load runs: acquires overlap, rounds wait for them
	var sent, answered tally
	var renewalsAnswered atomic.Int64
	var lastRenewal atomic.Int64 // when the last renewal Redis answered was sent, in Unix ns
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if !overlap.Load() {
			return next()
		}
		mine := sent.add()
		err := next()
		sent.waitPast(ctx, mine) // another acquire is on its way, its asks read
		answered.add()
		return err
	}})
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if !overlap.Load() {
			return next()
		}
		before := answered.get()
		at := time.Now()
		err := next()
		if err == nil && cmds[0].Err() == nil {
			renewalsAnswered.Add(1)
			lastRenewal.Store(at.UnixNano())
		}
		answered.waitPast(ctx, before+3) // a round trip as long as a few acquires'
		return err
	}})

	acquireSent := time.Now()
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "holder", 1)
	defer rel()

	// The load: two workers that take and release slots of their own keys.
	overlap.Store(true)
	loadCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var loadErr atomic.Value
	for _, key := range []string{"loada", "loadb"} {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				_, r, err := f.l.TryAcquire(loadCtx, key, 1000)
				if err != nil {
					if loadCtx.Err() == nil {
						loadErr.CompareAndSwap(nil, err)
					}
					continue
				}
				r()
			}
		})
	}
	defer waitAll(t, &wg, waitAtOnce, "the workers end")
	defer stop()

	// One emptied script cache, once the load runs.
	eventually(t, "the load runs", func() bool { return answered.get() >= 10 })
	if err := raw.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	flushed := time.Now()
	answeredAtFlush := renewalsAnswered.Load()

	// Two lives on, the holder's lease has been renewed by many rounds
	// Redis answered.
	eventuallyWithin(t, waitAfter(2*life), "the holder's slot ends or two lives pass",
		func() bool { return sctx.Err() != nil || time.Since(acquireSent) > 2*life })
	if sctx.Err() == nil {
		return
	}
	ended := time.Since(acquireSent)
	last := time.Since(time.Unix(0, lastRenewal.Load()))
	t.Errorf("holder's slot ended (cause %v) %v after its acquire was sent and %v after one SCRIPT FLUSH, its life being %v, though Redis answered %d renewal calls of its lease since the flush, the last sent %v before the slot ended (Redis's lease ran %v past it; load error %v); want the rounds answered by a healthy Redis to keep it live",
		context.Cause(sctx), ended.Round(time.Millisecond), time.Since(flushed).Round(time.Millisecond), life,
		renewalsAnswered.Load()-answeredAtFlush, last.Round(time.Millisecond), (testLease - last).Round(time.Millisecond), loadErr.Load())
}

// A tally counts events, and lets a goroutine wait until it passes a count.
type tally struct {
	mu   sync.Mutex
	n    int64
	more chan struct{} // closed at the next event
}

// add counts an event and returns the count.
func (c *tally) add() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.more != nil {
		close(c.more)
		c.more = nil
	}
	return c.n
}

func (c *tally) get() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// waitPast waits until the count passes n, or ctx ends.
func (c *tally) waitPast(ctx context.Context, n int64) {
	for {
		c.mu.Lock()
		if c.n > n {
			c.mu.Unlock()
			return
		}
		if c.more == nil {
			c.more = make(chan struct{})
		}
		more := c.more
		c.mu.Unlock()
		select {
		case <-more:
		case <-ctx.Done():
			return
		}
	}
}
