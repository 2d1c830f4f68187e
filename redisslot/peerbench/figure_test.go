package main

import "testing"

func TestFigureFormat(t *testing.T) {
	for _, tc := range []struct {
		f    figure
		unit func(float64) string
		want string
	}{
		{figure{0.57}, ratio, "0.57"},
		{figure{0.60, 0.55, 0.57}, ratio, "0.57 (0.55–0.60)"},
		{figure{0.001, 0.003, 0.002, 0.004}, duration, "2.50 ms (1.00–4.00)"},
		{figure{0.0009, 0.00102, 0.00095}, duration, "950 µs (900 µs–1.02 ms)"},
		{figure{0.13, 0.10, 0.20}, percent, "13% (10–20)"},
		{figure{}, ratio, "–"},
	} {
		if got := tc.f.format(tc.unit); got != tc.want {
			t.Errorf("%v.format = %q; want %q", tc.f, got, tc.want)
		}
	}
}

func TestGrouped(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := grouped(n); got != want {
			t.Errorf("grouped(%d) = %q; want %q", n, got, want)
		}
	}
}
