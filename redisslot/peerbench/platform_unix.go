//go:build unix

package main

import (
	"os/exec"
	"syscall"
	"time"
)

// clientCPU returns the CPU time this process has used, user and system,
// all its threads together.
func clientCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ownGroup puts the process cmd starts in a process group of its own, so
// that a Ctrl-C at the terminal reaches only this program, which then
// stops the server by its pid.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
