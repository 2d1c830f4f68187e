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

// As the fallback state ends, the callers of a key's share line go back to
// Redis in their order, and "while a key's line moves either way, a new
// Acquire of the key waits behind it". A caller that has found the share
// full but is not yet in its line when the state ends (between takeShare
// and waitShare: asking Options.MaxWaitersFor, which "may be slow", or
// Fallback, or running a hook) is told errBackToRedis by waitShare, with no
// turn, and goes to Redis at once: ahead of the callers that have waited in
// the share's line since the outage. Here the share (1) of k is held, with
// limit 2; one caller waits in the share's line; a second caller is held in
// MaxWaitersFor while Redis comes back, the share's slot is written into
// it (one slot left free) and the state ends. The first caller's join is
// held in a client hook, as a slow round trip would. The second, let go,
// must not take the one free slot ahead of the first.
func TestFallbackCallerJoiningTheShareLineAsTheStateEndsIsNotAhead(t *testing.T) {
	const limit = 2 // Redis has room for one beside the share's slot
	srv := redistest.Start(t)
	joining, unblockJoin := make(chan struct{}, 1), make(chan struct{})
	var armed atomic.Bool
	opts := srv.Options()
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	c.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if mode, _ := cmds[0].Args()[scriptArg+3].(string); mode == "join" && armed.CompareAndSwap(true, false) {
			sendOrDrop(joining, struct{}{})
			select { // the first caller's join round trip, held
			case <-unblockJoin:
			case <-ctx.Done():
			}
		}
		return next()
	}})
	t.Cleanup(func() { _ = c.Close() })
	asking, unblockAsk := make(chan struct{}, 1), make(chan struct{})
	var asked atomic.Int32
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 },
		MaxWaitersFor: func(string, int) int {
			if asked.Add(1) == 2 { // the second caller, slow to learn its cap
				sendOrDrop(asking, struct{}{})
				<-unblockAsk
			}
			return 0
		},
	})
	letAsk := sync.OnceFunc(func() { close(unblockAsk) })
	letJoin := sync.OnceFunc(func() { close(unblockJoin) })
	letGo := func() { letAsk(); letJoin() }
	t.Cleanup(func() { _ = l.Close() })
	t.Cleanup(letGo) // before Close, which waits for the calls
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	_, rel, err := l.TryAcquire(ctx, "k", limit)
	if err != nil {
		t.Fatalf("TryAcquire with Redis down: %v; want a slot from the share", err)
	}
	t.Cleanup(rel)

	wctx, cancel := context.WithCancel(ctx)
	type result struct {
		rel func()
		err error
	}
	acquire := func(out chan<- result) {
		_, rel, err := l.Acquire(wctx, "k", limit)
		out <- result{rel, err}
	}
	first, second := make(chan result, 1), make(chan result, 1)
	t.Cleanup(func() {
		letGo()
		cancel()
		for _, c := range []chan result{first, second} {
			if r := recv(t, c, waitAtOnce, "an Acquire returns"); r.rel != nil {
				r.rel()
			}
		}
	})
	go acquire(first)
	eventually(t, "the first caller waits in the share's line", func() bool { return l.Stats().Waiting == 1 && asked.Load() == 1 })
	go acquire(second)
	recv(t, asking, waitAtOnce, "the second caller, having found the share full, asks MaxWaitersFor its cap")

	armed.Store(true)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	recv(t, joining, waitLong, "the first caller of the share's line goes back to Redis once the state ends")
	if l.Stats().Degraded {
		t.Fatal("the fallback state is on while its line goes back to Redis; want it ended")
	}
	letAsk()
	quietFor(t, 40, 25*time.Millisecond, func() string {
		select {
		case r := <-second:
			second <- r // for the cleanup
			if r.err == nil {
				return "the second caller, which reached the share's line after the first, took k's one free slot in Redis while the first, waiting since the outage, was joining Redis's line: it went back to Redis with no turn, ahead of the line"
			}
		default:
		}
		return ""
	})
}
