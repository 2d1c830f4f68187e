package redisslot_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The tests of this file hold up Redis's reply to one call of a Limiter.

// replyDelayed returns a Limiter and a fixture sharing its keys; the
// Limiter's client goes through a proxy that holds up the reply to the
// first request that match accepts (ReadTimeout and retries as given).
func replyDelayed(t *testing.T, lease, delay, readTimeout time.Duration, retries int, match func([]byte) bool) (*redisslot.Limiter, *fixture, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	ctx := ctxWithTimeout(t)
	if err := redisslot.LoadScripts(ctx, srv.Client(t)); err != nil {
		t.Fatal(err)
	}
	p := newDelayProxy(t, srv.Addr, delay, false, match)
	o := srv.Options()
	o.Addr = p.addr
	o.ContextTimeoutEnabled = true
	o.ReadTimeout = readTimeout
	o.MaxRetries = retries
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	prefix := testPrefix(t)
	l := redisslot.New(c, redisslot.Options{Prefix: prefix, Lease: lease, OnError: func(error) {}})
	t.Cleanup(func() { _ = l.Close() })
	return l, newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: lease}), srv
}

// An acquire whose reply arrives after the slot's life (Lease minus the
// margin) has passed must not be returned as a live slot: Redis may have
// let its lease end and given it to another instance, as here.
func TestLateAdmissionIsNotReturnedLive(t *testing.T) {
	const lease = 300 * time.Millisecond
	l, other, _ := replyDelayed(t, lease, 2*lease, 2*time.Second, 0, func(b []byte) bool {
		return containsAll(b, redisslot.AcquireHash, "\r\ntry\r\n")
	})
	ctx := ctxWithTimeout(t)
	type got struct {
		alive bool
		took  time.Duration
		err   error
	}
	out := make(chan got, 1)
	go func() {
		start := time.Now()
		sctx, rel, err := l.TryAcquire(ctx, "k", 1)
		g := got{took: time.Since(start), err: err}
		if err == nil {
			g.alive = sctx.Err() == nil
			rel()
		}
		out <- g
	}()
	eventually(t, "the late acquire runs in Redis", func() bool { return inUse(t, other.l, "k") == 1 })
	var relOther func()
	eventually(t, "another instance takes the slot once Redis ended its lease", func() bool {
		_, rel, err := other.l.TryAcquire(ctx, "k", 1)
		relOther = rel
		return err == nil
	})
	defer relOther()
	g := recv(t, out, waitAtOnce, "the late TryAcquire returns")
	if g.err == nil && g.alive {
		t.Errorf("TryAcquire returned a live slot %v after its call was sent, past its life %v, while another instance holds the limit-1 key; want an error, or a slot already ended",
			g.took.Round(time.Millisecond), redisslot.Life(l))
	}
	if g.err != nil && !errors.Is(g.err, redisslot.ErrLeaseLost) {
		t.Errorf("late TryAcquire: %v; want an error wrapping ErrLeaseLost", g.err)
	}
}

// A release handed to the first-in-line waiter here rides on its try. When
// Redis refuses that try whole (out of memory: the acquire script has no
// allow-oom), the free did not run; it must be sent at once, as frees run
// out of memory, not left for the next renewal round.
func TestCarriedFreeRefusedWithItsTryIsSentAtOnce(t *testing.T) {
	srv := redistest.StartWith(t, "--maxmemory-policy", "noeviction")
	ctx := ctxWithTimeout(t)
	f := newFixture(t, srv, redisslot.Options{Lease: time.Minute}) // rounds 20s apart
	l, raw := f.l, srv.Client(t)
	_, relHolder, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() {
		_, rel, err := l.Acquire(ctx, "k", 1)
		if rel != nil {
			rel()
		}
		result <- err
	}()
	eventually(t, "the waiter waits", func() bool { return l.Stats().Waiting == 1 })
	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	relHolder() // handed to the waiter, whose try Redis refuses
	if err := recv(t, result, waitAtOnce, "the waiter's Acquire returns"); err == nil {
		t.Fatal("the waiter got a slot out of memory")
	}
	eventually(t, "the released slot freed in Redis", func() bool { return inUse(t, l, "k") == 0 })
}
