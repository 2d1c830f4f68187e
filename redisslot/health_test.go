package redisslot

import (
	"io"
	"testing"
	"testing/synctest"
)

// health numbers its changes in the order it sees them, and tells each to
// the callback of its kind.
func TestHealthNumbersItsChanges(t *testing.T) {
	var got []uint64
	h := health{
		back: func(c uint64) { got = append(got, c) },
		lost: func(c uint64, _ error) { got = append(got, c) },
	}
	h.note(io.EOF)
	h.note(io.EOF) // no change
	h.note(nil)
	h.note(nil) // no change
	h.note(io.EOF)
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
	f := fallback{share: func(string, int) int { return 1 }, report: func(error) {}}
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
		f := fallback{
			share:  func(string, int) int { return 1 },
			capFor: func(string, int) int { return 0 },
			report: func(error) {},
		}
		f.enter(1, io.EOF)
		for _, key := range []string{"k", "j"} { // j's slot keeps the state on
			if taken, _ := f.take(key, 5); !taken {
				t.Fatalf("take(%q) refused while the share of 1 is free", key)
			}
		}
		got := make(chan error, 1)
		go func() { got <- f.wait(t.Context(), "k", 5, nil) }()
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
