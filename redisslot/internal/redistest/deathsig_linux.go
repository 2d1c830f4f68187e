package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server die with the test binary, even when the
// binary is killed or times out before its cleanup runs.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
