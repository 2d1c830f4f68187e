package redisslot_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Options.Fallback: "while it lasts, acquiring calls of keys with a share
// do not wait on Redis". When the state ends, the callers of a key's local
// line go back to Redis one after another, each once the one before it has
// joined Redis's line or left. If Redis is lost again during those turns,
// the state begins again, but a caller waiting for its turn does not look
// at it: when its turn comes it sends its join to Redis all the same, and
// waits out the client's timeout before it goes back to the share; the
// next one then does the same, so the last of a line of n waits n client
// timeouts while the share has room (and callers that come meanwhile take
// it). Here three callers wait in the share's line; Redis answers and the
// state ends; the first one's join is held in a client hook (its round
// trip) while Redis is cut off again, the share's slots are released, and
// a call of another key begins the state again. No acquire of the line may
// then be sent to Redis while the state is on.
func TestFallbackLineGoingBackDoesNotWaitOnRedisOnceTheStateIsOnAgain(t *testing.T) {
	const waiters = 3
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	holding, unhold := make(chan struct{}, 1), make(chan struct{})
	var armed, watch atomic.Bool
	var sentWhileOn atomic.Int32
	var l *redisslot.Limiter
	l = fbLimiter(t, srv, p.Addr, &errLog{}, scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if mode, _ := cmds[0].Args()[scriptArg+3].(string); mode == "join" {
			if armed.CompareAndSwap(true, false) {
				sendOrDrop(holding, struct{}{})
				select { // the first caller's join round trip, held
				case <-unhold:
				case <-ctx.Done():
				}
			} else if watch.Load() && l.Stats().Degraded {
				sentWhileOn.Add(1)
			}
		}
		return next()
	}})
	t.Cleanup(p.Thaw) // before Close: its frees get through
	ctx := ctxWithTimeout(t)

	p.Freeze()
	var shareRels []func()
	for range fbShare {
		_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis cut off: %v; want a slot from the share", err)
		}
		shareRels = append(shareRels, rel)
	}
	wctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	got := make(chan int, waiters)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		select {
		case <-unhold:
		default:
			close(unhold)
		}
		close(stop)
		cancel()
		waitAll(t, &wg, waitAtOnce, "the callers return")
		for _, rel := range shareRels {
			rel()
		}
	})
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, rel, err := l.Acquire(wctx, "k", fbLimit)
			if err != nil {
				return
			}
			got <- i
			<-stop
			rel()
		}()
		eventually(t, fmt.Sprintf("caller %d waits in the share's line", i), func() bool { return l.Stats().Waiting == i+1 })
	}
	armed.Store(true)
	p.Thaw()
	recv(t, holding, waitLong, "the first caller of the share's line goes back to Redis once the state ends")
	if l.Stats().Degraded {
		t.Fatal("the fallback state is on while its line goes back to Redis; want it ended")
	}

	p.Freeze() // Redis is lost again
	for _, rel := range shareRels {
		rel() // adopted slots: the share has room again
	}
	shareRels = nil
	watch.Store(true)
	_, relOther, err := l.TryAcquire(ctx, "other", fbLimit) // meets the outage: the state begins again
	if err != nil {
		t.Fatalf("TryAcquire of another key with Redis cut off again: %v; want a slot from the share", err)
	}
	t.Cleanup(relOther)
	if !l.Stats().Degraded {
		t.Fatal("the fallback state is off after a slot from the share; want it on")
	}
	close(unhold) // the first caller's join goes on, into the cut
	for range 2 { // the share's room, 2: in a right Limiter the first two callers take it at once
		recv(t, got, waitAtOnce, "a caller of the line takes a slot of the share")
	}
	if n := sentWhileOn.Load(); n > 0 {
		t.Fatalf("%d acquire calls of the share's line were sent to Redis while the fallback state was on again, each waiting out the client's timeout (%v) in turn while the share had room; want none: the callers go back to the share", n, fbTimeout)
	}
}
