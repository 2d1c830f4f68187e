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
			turn, err := f.waitShare(ctx, "k", "", 1, 0, nil, &lineTurn{})
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

// A waiter of the share's line given its turn back to Redis as the state
// ends may yet be granted a fallback slot, if the state begins again before
// its goroutine runs: it then sees its grant, or both its grant and the
// state's end, and takes either. Granted, it must end its turn back, else the waiter behind
// it waits for that turn until its own ctx ends. Here the state ends and
// begins again, and a share slot is freed for the first waiter, all before
// the waiters have left; the second waiter's turn must come. Run 20 times:
// the first takes its grant in most.
func TestFallbackWaiterGrantedAsTheStateEndsGivesUpItsTurn(t *testing.T) {
	for range 20 {
		synctest.Test(t, testWaiterGrantedGivesUpItsTurn)
	}
}

func testWaiterGrantedGivesUpItsTurn(t *testing.T) {
	f := testFallback(func(string, int) int { return 1 })
	f.enter(1, io.EOF)
	if taken, _ := take(f, "k", 2); !taken {
		t.Fatal("take refused while the share of 1 is free")
	}
	stopAll := make(chan struct{})
	defer close(stopAll)
	second := make(chan struct{}, 1) // the second waiter's turn came
	for i := range 2 {
		go func() {
			turn, err := f.waitShare(t.Context(), "k", "", 1, 0, nil, &lineTurn{})
			if err != errBackToRedis {
				return // the first waiter, granted
			}
			turn.wait(t.Context(), stopAll)
			select {
			case <-stopAll:
				return
			default:
			}
			if i == 1 {
				second <- struct{}{}
			}
			turn.end()
		}()
		synctest.Wait() // in line, in order
	}
	f.answered(2)
	f.adopted("k") // Redis knows the fallback slot: the state may end
	f.mu.Lock()
	f.on = false
	for key, sk := range f.keys {
		sk.lineUp(key, f.lines)
	}
	ended := f.ended
	f.on, f.granting, f.ended = true, true, make(chan struct{}) // and begins again
	sk := f.keys["k"]
	sk.live-- // the fallback slot ends: the first waiter is granted
	f.serve("k", sk)
	close(ended) // the end, which the waiters may see after the grant
	f.mu.Unlock()
	synctest.Wait()
	select {
	case <-second:
	default:
		t.Fatal("the second waiter's turn back to Redis never came: the first, granted a fallback slot as the state ended, kept its turn")
	}
}
