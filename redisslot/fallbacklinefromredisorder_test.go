package redisslot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Acquire serves waiters "in the order they joined", and while Redis cannot
// be reached they wait in the share's local line, in order. When Redis is
// lost while callers of a key wait in its queue there, the Limiter wakes
// them all at once and each leaves Redis's line for the share's as its
// goroutine happens to run: the share's slots, and the places in its line,
// go to them in that order, not in the order they joined. (The way back,
// from the share's line to Redis's, keeps the order: see
// TestFallbackLineGoesBackToRedisInItsOrder.) Here k is full in Redis and
// 8 callers join its queue one after another; Redis is cut off; the share's
// slots, and then each slot of the share freed one at a time, must go to
// them in the order they joined.
func TestFallbackLineFromRedisKeepsItsOrder(t *testing.T) {
	const waiters = 8
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	l := fbLimiter(t, srv, p.Addr, &errLog{})
	t.Cleanup(p.Thaw) // before Close: its frees get through
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	full := redisNowMs(t, direct) + float64(waitLong.Milliseconds()) // holders of another instance, live to the end
	for i := range fbLimit {
		if err := direct.ZAdd(ctx, redisslot.SlotKey(l, "k"), redis.Z{Score: full, Member: fmt.Sprintf("other-%d/%d", i, fbLimit)}).Err(); err != nil {
			t.Fatal(err)
		}
	}

	got := make(chan int, waiters) // who took a slot, in order
	release := make([]chan struct{}, waiters)
	for i := range release {
		release[i] = make(chan struct{})
	}
	released := make([]bool, waiters)
	free := func(i int) { // on the test's goroutine only
		if !released[i] {
			released[i] = true
			close(release[i])
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() {
		for i := range release {
			free(i)
		}
		cancel()
		waitAll(t, &wg, waitAtOnce, "the callers return")
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
			<-release[i]
			rel()
		}()
		eventually(t, fmt.Sprintf("caller %d waits in k's queue in Redis", i), func() bool {
			return redisslot.Waiters(l, "k") == i+1
		})
	}
	p.Freeze() // the waiters' entry renewals fail: the state begins
	var order []int
	for range fbShare { // the share, taken at once
		order = append(order, recv(t, got, waitLong, "a caller takes a slot of the share once Redis is cut off"))
	}
	slices.Sort(order)
	for len(order) < waiters {
		free(order[len(order)-1])
		order = append(order, recv(t, got, waitAtOnce, "the next caller takes the share's slot freed"))
	}
	want := make([]int, waiters)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(order, want) {
		t.Errorf("callers of k's queue in Redis took the share's slots in the order %v once Redis was cut off; want the order they joined, %v", order, want)
	}
}
