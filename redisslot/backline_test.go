package redisslot

import (
	"fmt"
	"testing"
)

// now reports whether it is t's turn.
func (t lineTurn) now() bool {
	t.line.mu.Lock()
	defer t.line.mu.Unlock()
	return t.line.next >= t.pos
}

// turnOrder ends the turns in the order their turns come, checking at each
// step that exactly one, the next in want's order, is due, and that the
// line is then dropped.
func turnOrder(t *testing.T, lines *movingLines, want []lineTurn, names []string) {
	t.Helper()
	for i := range want {
		for j := i; j < len(want); j++ {
			if due := want[j].now(); due != (j == i) {
				t.Fatalf("with %v ended, %s due: %v; want only %s due", names[:i], names[j], due, names[i])
			}
		}
		want[i].end()
	}
	if n := lines.n.Load(); n != 0 {
		t.Fatalf("%d moving lines left once every turn ended; want none", n)
	}
}

// The turns given at the front of a moving line come before every turn not
// yet come, the one due included, in the order given.
func TestTurnsGivenAtTheFrontOfAMovingLineComeFirst(t *testing.T) {
	lines := &movingLines{}
	due, next := lines.join("k"), lines.join("k")
	front := lines.front("k", 2)
	turnOrder(t, lines, []lineTurn{front[0], front[1], due, next}, []string{"front 0", "front 1", "due", "next"})
}

// As the state ends, the share's line goes back to Redis ahead of the
// callers its moving line has not yet brought to the share, and in its
// order.
func TestShareLineGoesBackAheadOfTheTurnsNotYetCome(t *testing.T) {
	for _, pending := range []int{0, 1, 2} {
		t.Run(fmt.Sprint(pending, " pending"), func(t *testing.T) {
			lines := &movingLines{}
			var turns []lineTurn
			var names []string
			for i := range pending {
				turns, names = append(turns, lines.join("k")), append(names, fmt.Sprint("pending ", i))
			}
			sk := &shareKey{}
			waiters := []*shareWaiter{{}, {}}
			for _, w := range waiters {
				w.elem = sk.waiters.PushBack(w)
			}
			sk.lineUp("k", lines)
			turnOrder(t, lines, append([]lineTurn{waiters[0].back, waiters[1].back}, turns...), append([]string{"share 0", "share 1"}, names...))
		})
	}
}
