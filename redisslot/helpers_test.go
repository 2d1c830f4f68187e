package redisslot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Time constants. Leases are real time: a loaded 2-core machine under -race
// keeps a 1s lease renewed, and conditions are polled with a generous bound.
const (
	testLease    = time.Second
	longLease    = time.Minute // for tests that must not see a renewal
	waitLong     = 30 * time.Second
	pollInterval = 5 * time.Millisecond
)

// fixture is a Limiter on a client of its own, with a command counter and a
// log of the errors it reports.
type fixture struct {
	l      *redisslot.Limiter
	client *redis.Client
	count  *redistest.Counter
	errs   *errLog
}

// newFixture returns a Limiter on srv with opts (OnError and Prefix filled
// in when empty), closed when the test ends.
func newFixture(t testing.TB, srv *redistest.Server, opts redisslot.Options) *fixture {
	t.Helper()
	f := &fixture{client: srv.Client(t), count: &redistest.Counter{}, errs: &errLog{}}
	f.client.AddHook(f.count)
	if opts.OnError == nil {
		opts.OnError = f.errs.add
	}
	if opts.Prefix == "" {
		opts.Prefix = testPrefix(t)
	}
	f.l = redisslot.New(f.client, opts)
	t.Cleanup(func() { _ = f.l.Close() })
	return f
}

// testPrefix keeps the keys of each test apart on the shared server.
func testPrefix(t testing.TB) string {
	return "test:" + strings.ReplaceAll(t.Name(), "/", ":") + ":"
}

// rawClient returns a plain client of srv, for looking at Redis from outside.
func rawClient(t testing.TB, srv *redistest.Server) *redis.Client {
	return srv.Client(t)
}

// errLog collects the errors a Limiter reports to OnError.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (e *errLog) add(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

func (e *errLog) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// has reports whether some reported error matches target with errors.Is.
func (e *errLog) has(target error) bool {
	for _, err := range e.all() {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// eventually polls cond until it holds, failing t after waitLong.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", waitLong, what)
		}
		time.Sleep(pollInterval)
	}
}

// ctxWithTimeout returns a context that ends with the test or after waitLong.
func ctxWithTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	t.Cleanup(cancel)
	return ctx
}

// members returns the members of a slot set with their scores.
func members(t testing.TB, c *redis.Client, rkey string) []redis.Z {
	t.Helper()
	zs, err := c.ZRangeWithScores(context.Background(), rkey, 0, -1).Result()
	if err != nil {
		t.Fatalf("ZRANGE %s 0 -1 WITHSCORES: %v", rkey, err)
	}
	return zs
}

// inUse calls l.InUse and fails t on an error.
func inUse(t testing.TB, l *redisslot.Limiter, key string) int {
	t.Helper()
	n, err := l.InUse(context.Background(), key)
	if err != nil {
		t.Fatalf("InUse(%q): %v", key, err)
	}
	return n
}

// mustTry takes a slot with TryAcquire and fails t if it cannot.
func mustTry(t testing.TB, l *redisslot.Limiter, ctx context.Context, key string, limit int) (context.Context, func()) {
	t.Helper()
	sctx, rel, err := l.TryAcquire(ctx, key, limit)
	if err != nil {
		t.Fatalf("TryAcquire(%q, %d): %v", key, limit, err)
	}
	if sctx == nil || rel == nil {
		t.Fatalf("TryAcquire(%q, %d) = %v, %p, nil; want a context and a release", key, limit, sctx, rel)
	}
	return sctx, rel
}
