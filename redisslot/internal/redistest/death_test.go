package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A recordingTB is a testing.TB that keeps its cleanups and errors, so that
// a test can end it and read what the helpers reported.
type recordingTB struct {
	*testing.T
	cleanups []func()
	errors   []string
}

func (r *recordingTB) Helper()          {}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// end runs the cleanups, last registered first, as testing does.
func (r *recordingTB) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

func TestServerKilledDuringATestFailsItWithTheServersLog(t *testing.T) {
	rec := &recordingTB{T: t}
	defer rec.end()
	srv := redistest.Start(rec)
	pid := srv.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hangGuard)
	for srv.Err() == nil { // the kernel ends the process a moment after the signal
		if time.Now().After(deadline) {
			t.Fatalf("Err() still nil %v after SIGKILL of pid %d", hangGuard, pid)
		}
		runtime.Gosched()
	}
	rec.end()
	if len(rec.errors) != 1 {
		t.Fatalf("the test using a killed server got %d errors %q; want 1", len(rec.errors), rec.errors)
	}
	report := rec.errors[0]
	for _, want := range []string{
		fmt.Sprintf("pid %d", pid),
		"signal: killed",
		"Ready to accept connections", // from the server's log
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report %q does not say %q", report, want)
		}
	}
}

func TestServerStoppedOrPausedIsNoFailure(t *testing.T) {
	rec := &recordingTB{T: t}
	stopped := redistest.Start(rec)
	paused := redistest.Start(rec)
	if err := stopped.Stop(); err != nil {
		t.Fatal(err)
	}
	pid := paused.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGCONT) }()
	rec.end()
	if len(rec.errors) != 0 {
		t.Errorf("stopping and pausing servers reported %q; want nothing", rec.errors)
	}
}

// A goroutine that returns while locked to its thread ends the thread, and
// the kernel then kills every child that thread started with Pdeathsig. The
// servers must not be among them, whichever threads such goroutines end:
// here, every thread the process has but the few that run goroutines.
func TestServerOutlivesThreadsThatEnd(t *testing.T) {
	srv := redistest.Start(t)
	const n = 64 // more than the runtime's idle threads, so that it runs out of them
	tids := make(chan int, n)
	var locked, ended sync.WaitGroup
	exit := make(chan struct{})
	locked.Add(n)
	for range n {
		ended.Go(func() {
			runtime.LockOSThread() // never unlocked: the runtime ends the thread
			tids <- syscall.Gettid()
			locked.Done()
			<-exit
		})
	}
	locked.Wait()
	close(exit)
	ended.Wait()
	close(tids)
	// The kernel sends Pdeathsig as a thread exits, before the thread leaves
	// /proc; a killed server then never answers again.
	deadline := time.Now().Add(hangGuard)
	for tid := range tids {
		if tid == os.Getpid() {
			continue // the runtime never ends the main thread; it parks it
		}
		for {
			if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); errors.Is(err, fs.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("thread %d still in /proc %v after its locked goroutine returned", tid, hangGuard)
			}
			runtime.Gosched()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := srv.Client(t).Ping(ctx).Err(); err != nil {
		t.Errorf("PING after threads ended: %v (%v)", err, srv.Err())
	}
}
