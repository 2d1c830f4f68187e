//go:build !unix

package main

import (
	"os/exec"
	"time"
)

// clientCPU returns 0: this platform has no getrusage, so the client CPU
// columns read 0.
func clientCPU() time.Duration { return 0 }

// ownGroup does nothing here.
func ownGroup(*exec.Cmd) {}
