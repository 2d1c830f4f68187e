package redisslot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
)

// health numbers its changes in the order it sees them, and tells each to
// the callback of its kind.
func TestHealthNumbersItsChanges(t *testing.T) {
	var got []uint64
	h := health{
		back: func(c uint64) { got = append(got, c) },
		lost: func(c uint64, _ error) { got = append(got, c) },
	}
	h.note(io.EOF, time.Now())
	h.note(io.EOF, time.Now()) // no change
	h.note(nil, time.Now())
	h.note(nil, time.Now()) // no change
	h.note(io.EOF, time.Now())
	if want := []uint64{1, 2, 3}; len(got) != len(want) || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("changes told: %v; want %v", got, want)
	}
	if down, change := h.state(); !down || change != 3 {
		t.Errorf("state() = %v, %d; want true, 3", down, change)
	}
}

// Health's callbacks run with no lock held, so a change can reach the
// fallback after a later one: Redis lost (1), back (2), lost again (3),
// told as 1, 3, 2. The share must go on granting, as Redis is down.
func TestFallbackIgnoresAHealthChangeOlderThanOneApplied(t *testing.T) {
	f := testFallback(func(string, int) int { return 1 })
	f.enter(1, io.EOF)
	f.enter(3, io.EOF)
	f.answered(2)
	if !f.granting {
		t.Error("the share stopped granting on news older than the last change applied; want it granting, Redis being down")
	}
	f.answered(4)
	f.enter(3, io.EOF)
	if f.granting {
		t.Error("the share grants again on news older than Redis's answer; want it stopped")
	}
}

// A caller in a key's fallback line while Redis answers (the share grants
// nothing) is served, once Redis is lost again, by the share that the key
// has free then, not only at the key's next release or arrival.
func TestFallbackLineIsServedWhenRedisIsLostAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := testFallback(func(string, int) int { return 1 })
		f.enter(1, io.EOF)
		for _, key := range []string{"k", "j"} { // j's slot keeps the state on
			if taken, _ := take(f, key, 5); !taken {
				t.Fatalf("take(%q) refused while the share of 1 is free", key)
			}
		}
		got := make(chan error, 1)
		go func() { got <- wait(t.Context(), f, "k", 5, nil) }()
		synctest.Wait()
		f.answered(2)
		f.put("k") // k's share is free, but Redis answers: nobody is granted it
		synctest.Wait()
		select {
		case err := <-got:
			t.Fatalf("wait returned %v while Redis answers; want it waiting", err)
		default:
		}
		f.enter(3, io.EOF)
		synctest.Wait()
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("wait = %v once Redis is lost again; want a fallback slot", err)
			}
		default:
			t.Fatal("the caller in line still waits once Redis is lost again and the key's share is free; want it served")
		}
	})
}

// A loss told after a later answer (Redis lost (1), back (2), told as 2,
// 1) finds the fallback state off: it must not begin it, nor report it,
// as Redis answers.
func TestFallbackDoesNotBeginOnALossOlderThanAnAnswer(t *testing.T) {
	var reports int
	f := fallback{share: func(string, int) int { return 1 }, report: func(error) { reports++ }}
	f.answered(2)
	f.enter(1, io.EOF)
	if f.degraded() || reports != 0 {
		t.Errorf("after answer 2 then loss 1: degraded %v, %d reports; want false, 0", f.degraded(), reports)
	}
	f.enter(3, io.EOF)
	if !f.degraded() || !f.granting || reports != 1 {
		t.Errorf("after loss 3: degraded %v, granting %v, %d reports; want true, true, 1", f.degraded(), f.granting, reports)
	}
}

// Redis lost again between a round's check that it answers and the round's
// leave: the share grants again, and leave must not end the state, though
// Redis knows every fallback slot.
func TestFallbackStateDoesNotEndWhileItGrants(t *testing.T) {
	f := testFallback(func(string, int) int { return 1 })
	f.enter(1, io.EOF)
	f.answered(2)
	f.enter(3, io.EOF)
	f.leave()
	if !f.degraded() {
		t.Error("leave ended the fallback state while it grants (Redis lost again); want it on")
	}
	f.answered(4)
	f.leave()
	if f.degraded() {
		t.Error("leave kept the fallback state on once Redis answers and knows every fallback slot; want it ended")
	}
}

// Once Redis answers, the share grants no more, though the state is on
// until Redis knows the fallback slots still held: a caller arriving
// meanwhile gets no fallback slot, even with the key's share free.
func TestFallbackGrantsNothingOnceRedisAnswers(t *testing.T) {
	f := testFallback(func(string, int) int { return 2 })
	f.enter(1, io.EOF)
	if taken, _ := take(f, "k", 5); !taken {
		t.Fatal("take refused while Redis is lost and the share of 2 is free")
	}
	f.answered(2)
	if taken, on := take(f, "k", 5); taken || !on {
		t.Errorf("take once Redis answers = %v, %v; want false, true (no slot, the state still on)", taken, on)
	}
}

// The share keeps a key only while it has fallback slots or callers in its
// line: a key whose last slot is put back, or whose last caller gives up,
// is forgotten, so that the keys of an outage do not pile up.
func TestFallbackForgetsAKeyWithNoSlotNorCallerInLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := testFallback(func(string, int) int { return 1 })
		f.enter(1, io.EOF)
		if taken, _ := take(f, "k", 5); !taken {
			t.Fatal("take refused while the share of 1 is free")
		}
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan error, 1)
		go func() { got <- wait(ctx, f, "k", 5, nil) }()
		synctest.Wait()
		cancel() // the caller in line gives up
		if err := <-got; err != context.Canceled {
			t.Fatalf("wait = %v after its ctx ended; want context.Canceled", err)
		}
		f.put("k")
		if n := len(f.keys); n != 0 {
			t.Errorf("the share keeps %d keys with no fallback slot nor caller in line; want 0", n)
		}
	})
}

// Each caller in a key's line is served within the share of the limit it
// passed, in order: when the first, whose share is full, gives up, the
// next, whose larger share has room, is served at once.
func TestFallbackServesTheNextInLineWhenTheFirstGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := testFallback(func(_ string, limit int) int { return limit / 2 })
		f.enter(1, io.EOF)
		if taken, _ := take(f, "k", 2); !taken {
			t.Fatal("take refused while the share of 1 is free")
		}
		first, stop := context.WithCancel(t.Context())
		got := make(chan error, 1)
		go func() { got <- wait(first, f, "k", 2, nil) }() // share 1, full
		synctest.Wait()
		behind, stopBehind := context.WithCancel(t.Context())
		defer stopBehind()
		next := make(chan error, 1)
		go func() { next <- wait(behind, f, "k", 8, nil) }() // share 4, behind it
		synctest.Wait()
		stop()
		if err := <-got; err != context.Canceled {
			t.Fatalf("first in line: wait = %v after its ctx ended; want context.Canceled", err)
		}
		synctest.Wait()
		select {
		case err := <-next:
			if err != nil {
				t.Errorf("next in line: wait = %v; want a fallback slot", err)
			}
		default:
			t.Error("the next in line still waits once the first gave up, its share having room; want it served")
			stopBehind()
			<-next
		}
	})
}

// A fresh queue of a key still subscribed to is woken once, by the first
// changes that sees it; later changes, for other keys, wake it no more.
func TestChangesWakesAFreshQueueOnce(t *testing.T) {
	w := &waiting{}
	n := names{"p:"}
	k, _, err := w.join(n.ref("k"), "m1/1", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	subscribed := map[string]bool{n.ref("k").rkey(): true} // k's channel is still subscribed
	w.changes(subscribed)
	if !k.woken {
		t.Fatal("changes did not wake the fresh queue's oldest waiter on a channel still subscribed")
	}
	k.woken = false // it tried
	if _, _, err := w.join(n.ref("j"), "m2/1", 1, 0); err != nil {
		t.Fatal(err)
	}
	w.changes(subscribed)
	if k.woken {
		t.Error("changes for another key woke k's oldest waiter again; want it woken once, while its queue was fresh")
	}
}

// redisError is an error Redis answered with.
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

// unreachable tells an outage (no answer, a timeout, no connection, a
// server not ready) from an answer of Redis, whatever wraps the error.
func TestUnreachableTellsAnOutageFromAnAnswer(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{io.EOF, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{fmt.Errorf("renew: %w", context.DeadlineExceeded), true},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{fmt.Errorf("acquire: %w", redis.ErrPoolTimeout), true},
		{redisError("LOADING Redis is loading the dataset in memory"), true},
		{redisError("CLUSTERDOWN The cluster is down"), true},
		{redisError("READONLY You can't write against a read only replica."), false},
		{redisError("OOM command not allowed when used memory > 'maxmemory'."), false},
		{redisError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{context.Canceled, false},
		{errors.New("some other failure"), false},
	} {
		if got := unreachable(c.err); got != c.want {
			t.Errorf("unreachable(%v) = %v; want %v", c.err, got, c.want)
		}
	}
}

// testFallback returns a fallback state with share, no cap on its lines,
// and no reports.
func testFallback(share func(key string, limit int) int) *fallback {
	return &fallback{share: share, report: func(error) {}, lines: &movingLines{}}
}

// take is fallback.takeShare for a caller passing limit.
func take(f *fallback, key string, limit int) (taken, on bool) {
	return f.takeShare(key, "", f.share(key, limit))
}

// wait is fallback.waitShare for a caller passing limit, in a line with no
// cap, that takes its turn back to Redis at once.
func wait(ctx context.Context, f *fallback, key string, limit int, closing <-chan struct{}) error {
	turn, err := f.waitShare(ctx, key, "", f.share(key, limit), 0, closing, &lineTurn{})
	turn.end()
	return err
}

// On a Redis Cluster, the keys of a master out of reach are granted
// fallback slots after another master answers, until that master answers,
// and only while the state is on.
func TestFallbackGrantsToAMasterOutOfReachUntilItAnswers(t *testing.T) {
	f := testFallback(func(string, int) int { return 1 })
	aDown := true
	f.down = func(addr string) bool { return addr == "A" && aDown }
	f.enter(1, io.EOF)
	if taken, _ := f.takeShare("k", "A", 1); !taken {
		t.Fatal("take refused while master A is out of reach and the share of 1 is free")
	}
	f.answered(2) // another master answers
	inLine := func() *shareWaiter {
		w := &shareWaiter{share: 1, master: "A", ready: make(chan struct{})}
		f.mu.Lock()
		w.elem = f.key("k").waiters.PushBack(w)
		f.mu.Unlock()
		return w
	}
	granted := func(w *shareWaiter) bool {
		select {
		case <-w.ready:
			return true
		default:
			return false
		}
	}
	roomAgain := func() { // the slot held is adopted, then released
		f.adopted("k")
		f.adoptedEnded("k")
	}

	first := inLine()
	roomAgain()
	if !granted(first) {
		t.Fatal("a caller in line for a key of master A, out of reach, not granted the room its share has after another master answered")
	}
	second := inLine()
	aDown = false // A answers
	roomAgain()
	if granted(second) {
		t.Fatal("a caller in line granted a fallback slot once every master has answered; want none")
	}
	aDown = true
	f.leave() // no slot Redis does not know: the state ends
	f.mu.Lock()
	f.serve("k", f.keys["k"])
	f.mu.Unlock()
	if granted(second) {
		t.Fatal("a caller in line granted a fallback slot after the state ended; want it sent back to Redis")
	}
}
