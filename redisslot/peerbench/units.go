package main

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// The units in which the tables print figures.

// The units print NaN, a figure that could not be measured (a per-acquire
// figure of a run that served none), as "–".

// ratio prints a dimensionless figure to two decimals: 0.57.
func ratio(v float64) string { return orDash(v, fmt.Sprintf("%.2f", v)) }

// times prints a ratio as a multiple: 4.40×.
func times(v float64) string { return orDash(v, fmt.Sprintf("%.2f×", v)) }

// percent prints a share (0..1) as a percentage: 13%.
func percent(v float64) string { return orDash(v, fmt.Sprintf("%.0f%%", 100*v)) }

func orDash(v float64, s string) string {
	if math.IsNaN(v) {
		return "–"
	}
	return s
}

// count prints a count per event to three significant digits: 19.7.
func count(v float64) string { return sig3(v) }

// duration prints seconds as µs or ms to three significant digits: 302 µs,
// 14.5 ms.
func duration(seconds float64) string {
	switch d := time.Duration(seconds * float64(time.Second)); {
	case math.IsNaN(seconds):
		return "–"
	case d < time.Millisecond:
		return sig3(seconds*1e6) + " µs"
	case d < time.Second:
		return sig3(seconds*1e3) + " ms"
	default:
		return sig3(seconds) + " s"
	}
}

// sig3 prints v with three significant digits, in plain notation.
func sig3(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// grouped prints a count with thousands separated: 10,000.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
