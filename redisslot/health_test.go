package redisslot

import (
	"io"
	"testing"
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
