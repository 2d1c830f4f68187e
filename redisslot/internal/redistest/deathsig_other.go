//go:build !linux

package redistest

import "os/exec"

// dieWithParent does nothing where the kernel cannot signal a child when its
// parent dies; a killed test binary may leave its server running there.
func dieWithParent(*exec.Cmd) {}
