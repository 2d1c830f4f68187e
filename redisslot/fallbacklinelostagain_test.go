package redisslot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Options.Fallback: the local line goes back to Redis in its order, "or
// the share's line, in order, if the state is on again by then". Here
// three callers wait in the share's line; Redis answers, the state ends,
// and the first caller joins Redis's line (the key is full there). The
// second caller's join is held in a client hook while Redis is cut off
// again; it then fails, and the state begins again while the first caller
// waits in Redis's line and the third waits for its turn. The first
// caller, ahead of the others, must go back to the share's line ahead of
// them: when the share's two slots are released, the first two callers
// take them.
func TestFallbackLineKeepsItsOrderWhenRedisIsLostAgainAsItGoesBack(t *testing.T) {
	const waiters = 3
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	holding, unhold := make(chan struct{}, 1), make(chan struct{})
	var joins atomic.Int32
	var armed atomic.Bool
	l := fbLimiter(t, srv, p.Addr, &errLog{}, scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if mode, _ := cmds[0].Args()[scriptArg+3].(string); mode == "join" && armed.Load() && joins.Add(1) == 2 {
			sendOrDrop(holding, struct{}{})
			select { // the second caller's join, held
			case <-unhold:
			case <-ctx.Done():
			}
		}
		return next()
	}})
	t.Cleanup(p.Thaw) // before Close: its frees get through
	ctx := ctxWithTimeout(t)
	other := newFixture(t, srv, redisslot.Options{Lease: fbLease}) // straight to Redis, l's prefix

	p.Freeze()
	var shareRels []func()
	for range fbShare {
		_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis cut off: %v; want a slot from the share", err)
		}
		shareRels = append(shareRels, rel)
	}
	for range fbLimit - fbShare { // with l's slots adopted, k is full in Redis
		_, rel := mustTry(t, other.l, ctx, "k", fbLimit)
		t.Cleanup(rel)
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
		wg.Go(func() {
			_, rel, err := l.Acquire(wctx, "k", fbLimit)
			if err != nil {
				return
			}
			got <- i
			<-stop
			rel()
		})
		eventually(t, fmt.Sprintf("caller %d waits in the share's line", i), func() bool { return l.Stats().Waiting == i+1 })
	}
	armed.Store(true)
	p.Thaw()
	recv(t, holding, waitLong, "the second caller of the share's line goes back to Redis, once the first has joined Redis's line")
	if l.Stats().Degraded {
		t.Fatal("the fallback state is on while its line goes back to Redis; want it ended")
	}
	order, _ := redisslot.QueueKeys(l, "k")
	if n := srv.Client(t).ZCard(ctx, order).Val(); n != 1 {
		t.Fatalf("k's line in Redis has %d members; want the first caller's", n)
	}

	p.Freeze()    // Redis is lost again
	close(unhold) // the second caller's join goes on, into the cut
	eventually(t, "the state begins again", func() bool { return l.Stats().Degraded })
	for _, rel := range shareRels {
		rel() // adopted slots: the share has room again
	}
	shareRels = nil
	first := []int{recv(t, got, waitAtOnce, "a caller takes a slot of the share"), recv(t, got, waitAtOnce, "a second caller takes a slot of the share")}
	slices.Sort(first)
	if !slices.Equal(first, []int{0, 1}) {
		t.Errorf("callers %v took the share's two slots; want 0 and 1, the first two of the line: the first caller, in Redis's line as the state began again, went back to the share behind the callers still on their way to Redis", first)
	}
}
