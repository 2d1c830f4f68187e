package redisslot_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// Acquire serves waiters "in the order they joined", and while Redis
// cannot be reached they wait "in a local line, in order". When Redis
// answers again and the fallback state ends, that line "goes back to
// Redis": it must keep its order there. Every waiter of the line is woken
// at once (the state's ended channel) and joins the key's queue in Redis
// as its goroutine happens to run, so later waiters take slots before
// earlier ones. Here 8 callers join the line one after another while the
// share is held; once Redis answers, the slots it has room for, and then
// each slot freed one at a time, must go to them in that order.
func TestFallbackLineGoesBackToRedisInItsOrder(t *testing.T) {
	const waiters = 8
	srv := redistest.Start(t)
	l := fbLimiter(t, srv, "", &errLog{})
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for range fbShare { // the share, held to the end
		_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis down: %v; want a slot from the share", err)
		}
		t.Cleanup(rel)
	}
	got := make(chan int, waiters) // who took a slot, in order
	release := make([]chan struct{}, waiters)
	released := make([]bool, waiters)
	free := func(i int) { // on the test's goroutine only
		if i >= 0 && !released[i] {
			released[i] = true
			close(release[i])
		}
	}
	for i := range release {
		release[i] = make(chan struct{})
	}
	t.Cleanup(func() {
		for i := range release {
			free(i)
		}
	})
	for i := range waiters {
		go func() {
			_, rel, err := l.Acquire(ctx, "k", fbLimit)
			if err != nil {
				got <- -1
				return
			}
			got <- i
			<-release[i]
			rel()
		}()
		eventually(t, fmt.Sprintf("caller %d waits in the share's line", i), func() bool { return l.Stats().Waiting == i+1 })
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fallback state ends once Redis answers", func() bool { return !l.Stats().Degraded })
	var order []int
	for range fbLimit - fbShare { // admitted at once, beside the share's slots
		order = append(order, recv(t, got, waitAtOnce, "a caller takes a slot Redis has room for"))
	}
	slices.Sort(order)
	for len(order) < waiters {
		free(order[len(order)-1])
		order = append(order, recv(t, got, waitAtOnce, "the next caller takes the slot freed"))
	}
	want := make([]int, waiters)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(order, want) {
		t.Errorf("callers of the share's line took slots in the order %v once Redis answered; want the order they joined, %v", order, want)
	}
}
