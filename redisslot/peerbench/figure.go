package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// A figure is one quantity measured once per round.
type figure []float64

// add records the value of one round.
func (f *figure) add(v float64) { *f = append(*f, v) }

// median returns the median of the rounds' values (the mean of the middle
// two for an even count), or NaN with none.
func (f figure) median() float64 {
	if len(f) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(f))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// format writes the median, and with more than one round the min–max
// across rounds after it, each value through unit, which the range leaves
// out when it is the median's: "0.57 (0.55–0.60)", "5.36 ms (5.10–5.68)",
// "980 µs (942 µs–1.02 ms)".
func (f figure) format(unit func(float64) string) string {
	if len(f) == 0 {
		return "–"
	}
	m := unit(f.median())
	if len(f) == 1 {
		return m
	}
	lo, hi := unit(slices.Min(f)), unit(slices.Max(f))
	if u := unitOf(m); u != "" && unitOf(lo) == u && unitOf(hi) == u {
		lo, hi = strings.TrimSuffix(lo, u), strings.TrimSuffix(hi, u)
	}
	return fmt.Sprintf("%s (%s–%s)", m, lo, hi)
}

// unitOf returns what follows the number in a formatted value: " ms", "%";
// "" when there is no number.
func unitOf(s string) string {
	i := strings.LastIndexAny(s, "0123456789")
	if i < 0 {
		return ""
	}
	return s[i+1:]
}

// quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the nearest
// rank, or 0 for no values.
func quantile[T any](sorted []T, q float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
