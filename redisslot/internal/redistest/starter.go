package redistest

import (
	"os/exec"
	"runtime"
	"sync"
)

// The kernel sends a child its Pdeathsig when the thread that started it
// exits, not when the process does (see [syscall.SysProcAttr]), and the Go
// runtime ends a thread whenever a goroutine locked to it returns without
// unlocking: any test or library doing that on the thread that happened to
// fork a server would kill the server in the middle of a test. So every
// server is started from one goroutine locked to its own thread, which no
// other goroutine can run on, and which exits only once every server it
// started has been reaped.
var starter struct {
	mu   sync.Mutex
	reqs chan startReq // nil while no server started by it is running
	live int           // started, or being started, and not yet reaped
}

type startReq struct {
	cmd  *exec.Cmd
	done chan error
}

// launch starts cmd on the starter's thread. Every cmd it started without
// error must be reaped with [reap].
func launch(cmd *exec.Cmd) error {
	starter.mu.Lock()
	if starter.reqs == nil {
		starter.reqs = make(chan startReq)
		go serveStarts(starter.reqs)
	}
	starter.live++
	reqs := starter.reqs
	starter.mu.Unlock()

	done := make(chan error)
	reqs <- startReq{cmd, done}
	err := <-done
	if err != nil {
		release()
	}
	return err
}

// reap waits for cmd, started by [launch], to exit, and returns its status.
func reap(cmd *exec.Cmd) error {
	err := cmd.Wait()
	release()
	return err
}

// release drops one running server; with none left, the starter exits.
func release() {
	starter.mu.Lock()
	defer starter.mu.Unlock()
	starter.live--
	if starter.live == 0 {
		close(starter.reqs)
		starter.reqs = nil
	}
}

// serveStarts starts each requested command from its locked thread until
// reqs is closed, then returns still locked, so that the runtime ends the
// thread rather than hand it to another goroutine; no child of it is
// running by then.
func serveStarts(reqs <-chan startReq) {
	runtime.LockOSThread()
	for r := range reqs {
		r.done <- r.cmd.Start()
	}
}
