package redisslot

import (
	"context"
	"io"
	"testing"
	"testing/synctest"
)

// As the fallback state ends, the waiters of a key's line go back to Redis
// one after another, each once the one before it has joined Redis's line.
// A waiter that leaves for its ctx just as the state ends, having been
// given its turn, must give it up: else the waiter behind it waits for it
// until its own ctx ends. Here the middle one of three waiters' ctx ends
// while the state ends (under the state's lock, so that it sees its ctx
// end first, or both at once); the third must get its turn. Run 20 times:
// the middle waiter leaves by its ctx in most.
func TestFallbackWaiterLeavingAsTheStateEndsGivesUpItsTurn(t *testing.T) {
	for range 20 {
		synctest.Test(t, testWaiterLeavingGivesUpItsTurn)
	}
}

func testWaiterLeavingGivesUpItsTurn(t *testing.T) {
	f := testFallback(func(string, int) int { return 1 })
	f.enter(1, io.EOF)
	if taken, _ := take(f, "k", 2); !taken {
		t.Fatal("take refused while the share of 1 is free")
	}
	stopAll := make(chan struct{})
	defer close(stopAll)
	back := make(chan int, 3) // the waiters whose turn came, in order
	var cancels [3]context.CancelFunc
	for i := range cancels {
		ctx, cancel := context.WithCancel(t.Context())
		cancels[i] = cancel
		defer cancel()
		go func() {
			turn, err := f.waitShare(ctx, "k", 1, 0, nil, &lineTurn{})
			if err != errBackToRedis {
				return
			}
			turn.wait(t.Context(), stopAll)
			select {
			case <-stopAll:
				return
			default:
			}
			back <- i
			turn.end() // joined Redis's line
		}()
		synctest.Wait() // in line, in order
	}
	f.answered(2)
	f.adopted("k") // Redis knows the fallback slot: the state may end
	f.mu.Lock()
	cancels[1]() // the middle waiter's ctx ends as the state ends
	f.on = false
	for key, sk := range f.keys {
		sk.lineUp(key, f.lines)
	}
	close(f.ended)
	f.mu.Unlock()
	synctest.Wait()
	var got []int
	for len(back) > 0 {
		got = append(got, <-back)
	}
	if len(got) == 0 || got[0] != 0 || got[len(got)-1] != 2 {
		t.Fatalf("waiters whose turn back to Redis came: %v; want 0, maybe 1, then 2: the middle one left as the state ended", got)
	}
}
