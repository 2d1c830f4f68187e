package redisslot_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// partialCluster starts a Redis Cluster of three masters that go on
// serving their hash slots while one of them is stopped
// (cluster-require-full-coverage no): the two that answer are a majority.
func partialCluster(t *testing.T, ctx context.Context) []*redistest.Server {
	t.Helper()
	servers := redistest.StartCluster(t, 3)
	for _, s := range servers {
		if err := s.Client(t).ConfigSet(ctx, "cluster-require-full-coverage", "no").Err(); err != nil {
			t.Fatalf("CONFIG SET cluster-require-full-coverage no: %v", err)
		}
	}
	return servers
}

// stopUntilCleanup stops srv (SIGSTOP) and returns what resumes it (once):
// a cleanup of t resumes it too, before the cleanups registered earlier,
// such as closing the Limiters whose calls it holds.
func stopUntilCleanup(t *testing.T, srv *redistest.Server) (resume func()) {
	t.Helper()
	pid := srv.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resume = sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	t.Cleanup(resume)
	return resume
}

// clusterClientOf returns a client of servers, closed when t ends, whose
// calls end at their ctx's deadline or after timeout (-1: none of its
// own), with one retry, as the package documentation advises for request
// paths.
func clusterClientOf(t *testing.T, servers []*redistest.Server, timeout time.Duration) *redis.ClusterClient {
	t.Helper()
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           servers[0].Options().DialTimeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		MaxRetries:            1,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// loadScripts loads the scripts through each client.
func loadScripts(t *testing.T, ctx context.Context, clients ...redis.UniversalClient) {
	t.Helper()
	for _, c := range clients {
		if err := redisslot.LoadScripts(ctx, c); err != nil {
			t.Fatalf("SCRIPT LOAD: %v", err)
		}
	}
}

// keyOnNode returns a key whose slot set l keeps on servers[node], of a
// cluster whose masters split the hash slots evenly, in order.
func keyOnNode(t *testing.T, ctx context.Context, servers []*redistest.Server, l *redisslot.Limiter, node int) string {
	t.Helper()
	return keysOnNode(t, ctx, servers, l, node, 1)[0]
}

// keysOnNode returns n keys, the first as keyOnNode's, whose slot sets l
// keeps on servers[node].
func keysOnNode(t *testing.T, ctx context.Context, servers []*redistest.Server, l *redisslot.Limiter, node, n int) []string {
	t.Helper()
	c := servers[0].Client(t)
	var keys []string
	for i := 0; len(keys) < n; i++ {
		key := fmt.Sprint("k", i)
		slot, err := c.ClusterKeySlot(ctx, redisslot.SlotKey(l, key)).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT: %v", err)
		}
		if int(slot)*len(servers)/16384 == node {
			keys = append(keys, key)
		}
	}
	return keys
}

// renewalsAnsweredBy counts the renewal calls that the node at addr
// answers without error, seen on its own connection: a hook on the node
// clients that c makes from now on.
func renewalsAnsweredBy(c *redis.ClusterClient, addr string) *atomic.Int64 {
	answered := new(atomic.Int64)
	c.OnNewNode(func(node *redis.Client) {
		if node.Options().Addr != addr {
			return
		}
		node.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
			err := next()
			for _, cmd := range cmds {
				if scriptOf(cmd) == redisslot.RenewHash && cmd.Err() == nil {
					answered.Add(1)
				}
			}
			return err
		}})
	})
	return answered
}
