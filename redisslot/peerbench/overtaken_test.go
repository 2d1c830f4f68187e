package main

import (
	"math"
	"testing"
	"time"
)

func TestOvertakenShare(t *testing.T) {
	g := func(start, served time.Duration) grant { return grant{start: start, served: served} }
	all := [2]time.Duration{0, time.Hour}
	for _, tc := range []struct {
		name     string
		grants   []grant
		from, to time.Duration
		want     float64
	}{
		{"served in the order they started", []grant{g(1, 10), g(2, 20), g(3, 30)}, all[0], all[1], 0},
		{"a later start served first overtakes", []grant{g(1, 30), g(2, 20), g(3, 40)}, all[0], all[1], 1.0 / 3},
		{"the last start served first overtakes all", []grant{g(1, 20), g(2, 30), g(3, 10)}, all[0], all[1], 2.0 / 3},
		{"equal starts overtake none of each other", []grant{g(1, 20), g(1, 10)}, all[0], all[1], 0},
		{"equal serving times overtake nobody", []grant{g(1, 10), g(2, 10)}, all[0], all[1], 0},
		{"an overtaker outside the window counts", []grant{g(1, 30), g(2, 5)}, 20, 40, 1},
		{"an overtaken grant outside the window does not", []grant{g(1, 30), g(2, 20), g(3, 25)}, 20, 29, 0},
		{"nothing served in the window", []grant{g(1, 10)}, 20, 40, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := overtakenShare(tc.grants, tc.from, tc.to)
			if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("overtakenShare(%v, %v, %v) = %v; want %v", tc.grants, tc.from, tc.to, got, tc.want)
			}
		})
	}
}
