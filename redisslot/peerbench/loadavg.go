package main

import (
	"os"
	"strings"
)

// loadAverage returns the 1, 5 and 15 minute load averages from
// /proc/loadavg, as the kernel writes them, or "unavailable".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unavailable"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unavailable"
	}
	return strings.Join(f[:3], " ")
}
