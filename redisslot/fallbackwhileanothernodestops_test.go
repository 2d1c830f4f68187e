package redisslot_test

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// On a Redis Cluster one of whose masters has stopped, a Limiter with a
// fallback share still reaches the node of every other key. The README
// promises that "the limit holds, even for an instance cut off from Redis",
// and Options.Fallback serves the share only "while Redis cannot be
// reached", at the risk that "while one instance cannot reach Redis, a key
// may have up to its limit plus that instance's share of holders". A key
// whose node answers is not cut off: Redis alone must admit to it, so that
// while b holds its one slot, a's TryAcquire of it is refused, round after
// round, while a key of the stopped master is served from the share.
func TestFallbackShareIsNotServedForAKeyWhoseNodeAnswers(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	const lease = 3 * time.Second
	servers := redistest.StartCluster(t, 3)
	ctx := ctxWithTimeout(t)
	const stopped, healthy = 0, 1
	for _, s := range servers {
		if err := s.Client(t).ConfigSet(ctx, "cluster-require-full-coverage", "no").Err(); err != nil {
			t.Fatalf("CONFIG SET cluster-require-full-coverage no: %v", err)
		}
	}
	// a's client is set up as the package documentation advises for
	// request paths: 1s timeouts, one retry.
	ca := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{servers[0].Addr, servers[1].Addr, servers[2].Addr},
		ContextTimeoutEnabled: true,
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		MaxRetries:            1,
	})
	t.Cleanup(func() { _ = ca.Close() })
	cb := redistest.ClusterClient(t, servers)
	for _, c := range []*redis.ClusterClient{ca, cb} {
		if err := redisslot.LoadScripts(ctx, c); err != nil {
			t.Fatalf("SCRIPT LOAD: %v", err)
		}
	}
	a := redisslot.New(ca, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 }})
	t.Cleanup(func() { _ = a.Close() })
	b := redisslot.New(cb, redisslot.Options{Prefix: "p:", Lease: lease, OnError: (&errLog{}).add})
	t.Cleanup(func() { _ = b.Close() })

	far := keyOnNodeOf(t, ctx, servers, a, stopped)
	near := keyOnNodeOf(t, ctx, servers, a, healthy)
	holdAbandoned(t, a, ctx, far, 1) // a's rounds call the node to be stopped
	_, relB := mustTry(t, b, ctx, near, 1)
	defer relB()
	if _, _, err := a.TryAcquire(ctx, near, 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("a.TryAcquire(%q, 1) before the stop = %v; want ErrFull", near, err)
	}

	pid := servers[stopped].Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resume := sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	t.Cleanup(resume)
	defer resume()

	// a's next round times out on the stopped master: the fallback state
	// begins, and a key of that master is served from the share.
	redisslot.RoundSoon(a)
	eventuallyWithin(t, waitAfter(lease), "a's fallback state begins", func() bool { return a.Stats().Degraded })
	_, relFar, err := a.TryAcquire(ctx, far, 1)
	if err != nil {
		t.Fatalf("a.TryAcquire(%q, 1) of a key of the stopped master, in the fallback state = %v; want a slot of the share", far, err)
	}
	defer relFar()

	// For a Lease, rounds cut short at the stopped master beside, a key
	// whose master answers is Redis's alone: b holds its one slot.
	tick := time.NewTicker(lease / 30) // samples of a state: no condition to wait for
	defer tick.Stop()
	for end := time.Now().Add(lease); time.Now().Before(end); <-tick.C {
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		_, rel, err := a.TryAcquire(tctx, near, 1)
		cancel()
		if err == nil {
			rel()
			t.Fatalf("a.TryAcquire(%q, 1) = a slot while b holds its one slot, its master answering (a degraded: %v); want ErrFull",
				near, a.Stats().Degraded)
		}
		if !errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("a.TryAcquire(%q, 1) = %v; want ErrFull: its master answers", near, err)
		}
		redisslot.RoundSoon(a) // rounds end by Lease/3, cut short at the stopped master
	}
}
