package main

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// A grant is one served acquire: when its caller started to wait (called
// acquire) and when it was served (acquire returned a slot), on this
// process's monotonic clock, from the start of the run.
type grant struct {
	start, served time.Duration
}

// overtakenShare returns the share of the grants served within [from, to]
// that were overtaken: a grant g is overtaken when another grant, of any
// caller on any instance, started strictly after g started and was served
// strictly before g was served. Every grant of the run counts as a possible
// overtaker, those outside the window too; acquires never served count for
// nothing. It returns NaN when no grant was served within the window.
func overtakenShare(grants []grant, from, to time.Duration) float64 {
	byStart := slices.SortedFunc(slices.Values(grants), func(a, b grant) int {
		return cmp.Compare(b.start, a.start) // latest start first
	})
	earliestServed := time.Duration(math.MaxInt64) // among the grants that started later
	var counted, overtaken int
	for i := 0; i < len(byStart); {
		j := i
		for j < len(byStart) && byStart[j].start == byStart[i].start {
			j++
		}
		for _, g := range byStart[i:j] { // equal starts overtake none of each other
			if g.served >= from && g.served <= to {
				counted++
				if earliestServed < g.served {
					overtaken++
				}
			}
		}
		for _, g := range byStart[i:j] {
			earliestServed = min(earliestServed, g.served)
		}
		i = j
	}
	if counted == 0 {
		return math.NaN()
	}
	return float64(overtaken) / float64(counted)
}
