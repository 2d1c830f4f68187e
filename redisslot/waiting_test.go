package redisslot

import "testing"

// A waiter that takes a slot while a wake-up is due to it, in a try already
// on its way, leaves that wake-up to the next local waiter only when the
// wake-up may have been for someone else. A message naming it, or a release
// here while it is first in line, counted a room for it alone, and the
// message or the free names every other waiter whose turn it is: passing
// it on sends a try that finds no room. A count message or a probe is a
// guess at how many may try, and a waiter that leaves without a slot frees
// the room it was woken for: those go on to the next waiter.
func TestLeavePassesOnOnlyAWakeUpNotSpent(t *testing.T) {
	const first, second = "i1-a/1", "i1-b/1"
	for _, tc := range []struct {
		name string
		wake func(w *waiting, wt *waiter, rkey string) // gives wt a due wake-up
		took bool                                      // wt leaves with a slot
		want bool                                      // the next waiter is woken
	}{
		{"named, took", func(w *waiting, _ *waiter, rkey string) { w.wakeNamed(rkey, first) }, true, false},
		{"named among others, took", func(w *waiting, _ *waiter, rkey string) { w.wakeNamed(rkey, "i2-x/1 "+first) }, true, false},
		{"release here, took", func(w *waiting, _ *waiter, rkey string) { w.handOff(rkey) }, true, false},
		{"named, left without a slot", func(w *waiting, _ *waiter, rkey string) { w.wakeNamed(rkey, first) }, false, true},
		{"release here, left without a slot", func(w *waiting, _ *waiter, rkey string) { w.handOff(rkey) }, false, true},
		{"count message, took", func(w *waiting, _ *waiter, rkey string) { w.wakeNamed(rkey, "1") }, true, true},
		{"probe, took", func(w *waiting, wt *waiter, _ string) { w.give(wt, true) }, true, true},
		{"named and tried, then a count message, took", func(w *waiting, wt *waiter, rkey string) {
			w.wakeNamed(rkey, first)
			w.next(wt)
			w.wakeNamed(rkey, "1")
		}, true, true},
		{"named, then a probe, took", func(w *waiting, wt *waiter, rkey string) {
			w.wakeNamed(rkey, first)
			w.give(wt, true)
		}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kicks := 0
			w := &waiting{kick: func() { kicks++ }, instance: "i1-"}
			ref := &keyRef{key: "k", names: [4]string{"s", "q", "e", "t"}}
			wt, _, err := w.join(ref, first, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			next, _, err := w.join(ref, second, 2, 1)
			if err != nil {
				t.Fatal(err)
			}
			w.next(wt) // wt's try is on its way
			tc.wake(w, wt, ref.rkey())
			if !wt.woken {
				t.Fatalf("the waiter has no wake-up due")
			}
			w.leave(wt, tc.took, false)
			if next.woken != tc.want {
				t.Errorf("next waiter woken = %v; want %v", next.woken, tc.want)
			}
			if kicks != 1 {
				t.Errorf("frees kicked %d times; want once, for a free the wake-up was to carry", kicks)
			}
		})
	}
}
