package redisslot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// As the fallback state begins, "the callers waiting in a key's line in
// Redis here go to the share's line in their order". A waiter whose try is
// on its way to Redis as the state begins is given its turn like the
// others; if Redis answers that try (not its turn yet), the waiter ends its
// turn as one that stays in Redis's line. But it does not stay: the wake-up
// that the state's beginning gave every waiter makes it try again, and,
// the state still on, it leaves Redis's line for the share's, behind the
// waiters it was ahead of. Here k is full in Redis and two callers wait in
// its queue, first (limit 2) then second (limit 3); the first one's retry
// is held on its way and answered, as Redis would, "still waiting, first
// in line" once Redis is cut off and the state has begun. The share (1
// slot) must go to the first caller.
func TestFallbackWaiterWhoseTryIsAnsweredAsTheStateBeginsKeepsItsPlace(t *testing.T) {
	const firstLimit, secondLimit, held = 2, 3, 3
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	var l *redisslot.Limiter
	var holdFirst sync.Once
	holding, gate := make(chan struct{}), make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	hold := make(chan struct{}) // closed once the first caller's next wait try is to be held
	secondAsked := make(chan struct{}, 1)
	opts := srv.Options()
	opts.Addr = p.Addr
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	c.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		args := cmds[0].Args()
		key, _ := args[3].(string)
		member, _ := args[scriptArg].(string)
		mode, _ := args[scriptArg+3].(string)
		if key != redisslot.SlotKey(l, "k") || mode != "wait" || !strings.HasSuffix(member, fmt.Sprintf("/%d", firstLimit)) {
			return next()
		}
		select {
		case <-hold:
		default:
			return next()
		}
		mine := false
		holdFirst.Do(func() { mine = true })
		if !mine {
			return next()
		}
		close(holding)
		<-gate
		// Redis's answer: still waiting, first in line, at its place (order -1: unchanged).
		cmds[0].(interface{ SetVal(any) }).SetVal([]any{int64(2), int64(-1), int64(0)})
		return nil
	}})
	t.Cleanup(func() { _ = c.Close() })
	l = redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(key string, limit int) int {
			if key == "k" && limit == secondLimit {
				sendOrDrop(secondAsked, struct{}{})
			}
			return 1
		},
	})
	t.Cleanup(func() { _ = l.Close() })
	t.Cleanup(p.Thaw)   // before Close: its frees get through
	t.Cleanup(openGate) // before Close, which waits for the calls
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	full := redisNowMs(t, direct) + float64(waitLong.Milliseconds()) // holders of another instance, live to the end
	for i := range held {
		if err := direct.ZAdd(ctx, redisslot.SlotKey(l, "k"), redis.Z{Score: full, Member: fmt.Sprintf("other-%d/%d", i, held)}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	queue, _ := redisslot.QueueKeys(l, "k")
	// A slot of another key, held throughout, gives every round a call
	// that fails while Redis is cut off. Else the round that the answer to
	// the first caller's try asks at once, with nothing to send, would end
	// the state; the next failure would begin it again, and the lines would
	// have moved to Redis and back, which this test does not look at.
	_, relOther, err := l.TryAcquire(ctx, "other", fbLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relOther) // before the thaw: its free waits for Close

	got := make(chan string, 2) // who took a slot, in order
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		openGate()
		cancel()
		waitAll(t, &wg, waitAtOnce, "the callers return")
	})
	start := func(who string, limit, queued int64) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, rel, err := l.Acquire(wctx, "k", int(limit))
			if err == nil {
				got <- who
				<-wctx.Done()
				rel()
			}
		}()
		eventually(t, who+" caller joins k's queue in Redis", func() bool {
			n, err := direct.ZCard(ctx, queue).Result()
			return err == nil && n == queued
		})
	}
	start("first", firstLimit, 1)
	start("second", secondLimit, 2)

	close(hold)
	recv(t, holding, waitLong, "the first caller, oldest, retries on its timer")
	p.Freeze()
	if _, rel, err := l.TryAcquire(ctx, "x", fbLimit); err == nil {
		rel()
	}
	if !l.Stats().Degraded {
		t.Fatal("a call of x as Redis was cut off left the fallback state off; want it on")
	}
	recv(t, secondAsked, waitAtOnce, "the second caller, woken, asks for its share")
	openGate() // Redis's answer to the first caller's try arrives

	if who := recv(t, got, waitLong, "a caller of k takes the share's slot"); who != "first" {
		t.Fatalf("the share's slot went to the %s caller; want the first, ahead of it in k's queue in Redis when the state began (its try, answered as the state began, ended its turn to the share's line, and it then went to that line behind the second)", who)
	}
}
