package redisslot_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
// their leases, until it is killed (or, if nobody kills it, for waitLong).
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
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	for range crashSlots {
		//lostrelease:ignore the child holds its slots until it is killed
		if _, _, err := l.TryAcquire(ctx, crashKey, crashSlots); err != nil {
			fmt.Printf("error %v\n", err)
			return
		}
	}
	fmt.Println("held")
	<-ctx.Done()
}

// crashRetry is the other instance's retry interval in the crash test: two
// Leases, so that a waiter that is not woken waits at least a Lease (the
// interval's upper half) before it tries again on its own.
const crashRetry = 2 * crashLease

// Issue 11, proof 2: a process that holds slots is killed with SIGKILL; the
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
	_ = stdout.(*os.File).SetReadDeadline(time.Now().Add(waitLong))
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "held" {
		log, _ := os.ReadFile(stderr.Name())
		t.Fatalf("child said %q (%v); want \"held\"; its stderr: %s", line, err, log)
	}
	//lostrelease:ignore the call must fail with ErrFull
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
		r := nextOutcome(t, out)
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
