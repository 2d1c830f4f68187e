package redisslot_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain runs the tests with one shared redis-server, stopped once they
// are done, and then looks for leaked goroutines: after every test's
// cleanups, so that the clients and Limiters they close are not reported.
// go-redis's own log is silenced: the fault tests stop and kill servers on
// purpose, and its pool would print a line for every refused dial, burying
// a failing test's report.
//
// The parallel tests wait on servers of their own (outages, stalls,
// leases), using little CPU: five run at once, whatever GOMAXPROCS, unless
// -parallel says otherwise.
func TestMain(m *testing.M) {
	redis.SetLogger(silentLog{})
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", "5"); err != nil {
			panic(err)
		}
	}
	goleak.VerifyTestMain(redistest.WithShared(m))
}

// silentLog is a go-redis logger that prints nothing.
type silentLog struct{}

func (silentLog) Printf(context.Context, string, ...any) {}

// verifyNoLeaks checks, when t ends, that every goroutine started since the
// call has ended. Call it first in a test: it registers the check as t's
// first cleanup, which runs last, after the cleanups that close the test's
// clients and Limiters (a deferred goleak.VerifyNone would run before them
// and report their goroutines as leaks).
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

// The check of verifyNoLeaks runs after the test's other cleanups: a
// Limiter that holds a slot and runs its renewer and subscriber, closed by a
// cleanup registered later, is not reported. (This test uses only the
// public API, so that it does not depend on the other tests' helpers.)
func TestLeakCheckRunsAfterTheTestsCleanups(t *testing.T) {
	verifyNoLeaks(t)
	srv := redistest.Shared(t)
	l := redisslot.New(srv.Client(t), redisslot.Options{
		Prefix: "test:" + t.Name() + ":",
		Lease:  2 * time.Second,
	})
	t.Cleanup(func() { _ = l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatalf("TryAcquire: %v", err)
	}
	t.Cleanup(rel)
}
