package redisslot_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Environment of the child process of the crash test: the Redis address
// and the Prefix it takes its slots under.
const (
	crashAddrEnv   = "REDISSLOT_CRASH_CHILD_ADDR"
	crashPrefixEnv = "REDISSLOT_CRASH_CHILD_PREFIX"
)

// The crash test's key, its limit (all of which the child takes) and the
// Lease of both processes.
const (
	crashKey   = "k"
	crashSlots = 3
	crashLease = time.Second
)

// TestCrashChildHoldsSlots does nothing in a normal run. Run by
// TestCrashedProcessSlotsComeBackWhenTheirLeasesEnd in a child process, it
// takes every slot of crashKey, says so on stdout, and holds them, renewing
// their leases, until it is killed (or, if nobody kills it, for waitAtOnce).
func TestCrashChildHoldsSlots(t *testing.T) {
	addr := os.Getenv(crashAddrEnv)
	if addr == "" {
		return
	}
	opts := redistest.Server{Addr: addr}
	client := redis.NewClient(opts.Options())
	defer client.Close()
	l := redisslot.New(client, redisslot.Options{
		Prefix:  os.Getenv(crashPrefixEnv),
		Lease:   crashLease,
		OnError: func(err error) { fmt.Fprintln(os.Stderr, "child OnError:", err) },
	})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitAtOnce)
	defer cancel()
	for range crashSlots {
		_, rel, err := l.TryAcquire(ctx, crashKey, crashSlots)
		if err != nil {
			fmt.Printf("error %v\n", err)
			return
		}
		abandon(rel) // the child holds its slots until it is killed
	}
	fmt.Println("held")
	<-ctx.Done()
}

// crashRetry is the other instance's retry interval in the crash test: two
// Leases, so that a waiter that is not woken waits at least a Lease (the
// interval's upper half) before it tries again on its own.
const crashRetry = 2 * crashLease

// A process that holds slots is killed with SIGKILL; the
// other instance, whose Acquire calls wait for those slots, gets all of them
// once their leases have ended: by the kill plus a Lease and a retry interval
// (plus a Lease of margin for a loaded machine). And once its oldest waiter
// has found the crashed process's slots free, the other waiters get theirs
// without a retry of their own: with the retry interval at two Leases, each
// of them would otherwise come at least a Lease after the one before.
func TestCrashedProcessSlotsComeBackWhenTheirLeasesEnd(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	other := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: crashLease})
	redisslot.SetRetryInterval(other.l, crashRetry)
	ctx := ctxWithTimeout(t)

	// The child is this test binary, running the test above. With an empty
	// PATH its TestMain finds no redis-server and starts none of its own.
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildHoldsSlots$", "-test.count=1")
	cmd.Env = append(withoutPath(os.Environ()), "PATH=", crashAddrEnv+"="+srv.Addr, crashPrefixEnv+"="+prefix)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(t.TempDir() + "/child.stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stderr = stderr // a file: os/exec copies nothing on a goroutine
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	_ = stdout.(*os.File).SetReadDeadline(time.Now().Add(waitAtOnce))
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "held" {
		log, _ := os.ReadFile(stderr.Name())
		t.Fatalf("child said %q (%v); want \"held\"; its stderr: %s", line, err, log)
	}
	if _, _, err := other.l.TryAcquire(ctx, crashKey, crashSlots); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire while the child holds every slot: %v; want ErrFull", err)
	}

	// Requests queue on the other instance.
	out := make(chan outcome, crashSlots)
	for i := range crashSlots {
		queueAcquire(t, other.l, ctx, crashKey, crashSlots, i, out)
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	killed = true
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("child exited with %v; want killed", err)
	}
	var took []time.Duration
	for range crashSlots {
		r := nextOutcomeWithin(t, out, waitAfter(2*crashLease+crashRetry))
		if r.err != nil {
			t.Fatalf("Acquire after the crash: %v", r.err)
		}
		took = append(took, r.at.Sub(died))
		defer r.rel()
	}
	t.Logf("after SIGKILL of the holder, the other instance got its %d slots after %v (Lease %v, retry interval %v)",
		crashSlots, took, crashLease, crashRetry)
	if last, want := took[len(took)-1], 2*crashLease+crashRetry; last > want {
		t.Errorf("the last slot came back %v after the crash; want within Lease + retry interval + Lease = %v",
			last, want)
	}
	// The child's leases ended together, so its slots were all free once
	// the first was taken. A waiter left to its own retry would come at
	// least crashRetry/2 = one Lease after the one before it: the spread of
	// three would be two Leases.
	if spread := took[len(took)-1] - took[0]; spread >= crashLease {
		t.Errorf("the slots freed together by the crash were taken over %v; want within a Lease (%v): each waiter woken by the one before it",
			spread, crashLease)
	}
}

// withoutPath returns env without its PATH.
func withoutPath(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PATH=") {
			out = append(out, kv)
		}
	}
	return out
}

// The crash test of a waiter: its key, and the environment variable that
// makes the child wait for it instead of holding slots.
const (
	crashWaitKey   = "w"
	crashWaitEnv   = "REDISSLOT_CRASH_CHILD_WAITS"
	crashWaitLease = 10 * time.Second
)

// TestCrashChildWaits does nothing in a normal run. Run by
// TestWaiterOfAKilledProcessStopsHoldingUpTheQueue in a child process, it
// waits for a slot of crashWaitKey (which the parent holds), says so on
// stdout once it is in line, and waits until it is killed (or, if nobody
// kills it, for waitAtOnce).
func TestCrashChildWaits(t *testing.T) {
	addr := os.Getenv(crashAddrEnv)
	if addr == "" || os.Getenv(crashWaitEnv) == "" {
		return
	}
	opts := redistest.Server{Addr: addr}
	client := redis.NewClient(opts.Options())
	defer client.Close()
	l := redisslot.New(client, redisslot.Options{Prefix: os.Getenv(crashPrefixEnv), Lease: crashWaitLease})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitAtOnce)
	defer cancel()
	go func() {
		_, rel, err := l.Acquire(ctx, crashWaitKey, 1) // the child is killed while it waits
		if err == nil {
			rel()
		}
		fmt.Printf("error %v\n", err)
	}()
	for redisslot.Waiters(l, crashWaitKey) == 0 && ctx.Err() == nil {
		time.Sleep(pollInterval)
	}
	fmt.Println("queued")
	<-ctx.Done()
}

// A waiter in a process killed with SIGKILL,
// first in line, stops holding up the queue within about a second and a
// half, whatever the Lease: at Lease 10s, the next waiter, on another
// instance, gets the freed slot within 3s of the kill. So does a waiter
// whose process is stopped (SIGSTOP): the slot offered to it moves on as
// fast.
func TestWaiterOfAKilledProcessStopsHoldingUpTheQueue(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
		t.Run(sig.String(), func(t *testing.T) {
			if sig == syscall.SIGSTOP && runtime.GOOS != "linux" {
				t.Skip("tells a stopped process by /proc")
			}
			waiterOfASignalledProcess(t, sig)
		})
	}
}

// waiterOfASignalledProcess runs a child that waits first in line, sends it
// sig, frees the slot, and checks that the next waiter gets it within 3s.
func waiterOfASignalledProcess(t *testing.T, sig syscall.Signal) {
	srv, h, w := pair(t, redisslot.Options{Lease: crashWaitLease})
	prefix := testPrefix(t)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, h.l, ctx, crashWaitKey, 1)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildWaits$", "-test.count=1")
	cmd.Env = append(withoutPath(os.Environ()), "PATH=", crashAddrEnv+"="+srv.Addr, crashPrefixEnv+"="+prefix, crashWaitEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill() // a stopped process dies of SIGKILL too
			_ = cmd.Wait()
		}
	}()
	_ = stdout.(*os.File).SetReadDeadline(time.Now().Add(waitAtOnce))
	if line, err := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "queued" {
		t.Fatalf("child said %q (%v); want \"queued\"", line, err)
	}
	out := make(chan outcome, 1)
	joinQueue(t, w.l, ctx, crashWaitKey, 1, 1, out) // second in line

	if err := syscall.Kill(cmd.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	// A signal takes effect a moment after it is sent: wait until the child
	// is dead, or all its threads stopped, so that it cannot take the slot.
	if sig == syscall.SIGKILL {
		_ = cmd.Wait()
		waited = true
	} else {
		eventually(t, "every thread of the child stopped", func() bool { return allStopped(t, cmd.Process.Pid) })
	}
	rel() // the slot is free, and offered to the child's waiter first
	o := nextOutcome(t, out)
	if o.err != nil {
		t.Fatalf("the next waiter: %v", o.err)
	}
	defer o.rel()
	if took := o.at.Sub(signalled); took > 3*time.Second {
		t.Errorf("the next waiter got the slot %v after the waiter ahead of it got %v; want within 3s (Lease %v)", took, sig, crashWaitLease)
	}
}

// allStopped reports whether every thread of process pid is stopped, by
// the state in /proc/<pid>/task/<tid>/stat.
func allStopped(t *testing.T, pid int) bool {
	t.Helper()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatalf("threads of the child: %v", err)
	}
	for _, task := range tasks {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) || (stat[i+2] != 'T' && stat[i+2] != 't') {
			return false
		}
	}
	return true
}
