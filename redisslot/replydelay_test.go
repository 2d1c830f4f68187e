package redisslot_test

import (
	"errors"
	"sync/atomic"
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
// let its lease end and given it to another instance, as here. TryAcquire
// returns an error wrapping ErrLeaseLost, for a reply just past the life
// (Redis's lease not yet ended) as for one long past it.
func TestLateAdmissionIsNotReturnedLive(t *testing.T) {
	const lease = 300 * time.Millisecond
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{
		{"just past its life", lease - redisslot.Margin(lease)/2},
		{"past its lease", 2 * lease},
	} {
		t.Run(tc.name, func(t *testing.T) { lateAdmission(t, lease, tc.delay) })
	}
}

// lateAdmission runs TestLateAdmissionIsNotReturnedLive with the acquire's
// reply held up by delay.
func lateAdmission(t *testing.T, lease, delay time.Duration) {
	l, other, _ := replyDelayed(t, lease, delay, 2*time.Second, 0, func(b []byte) bool {
		return containsAll(b, redisslot.AcquireHash, "\r\ntry\r\n")
	})
	if life := redisslot.Life(l); delay < life {
		t.Fatalf("reply delay %v is within the slot's life %v", delay, life)
	}
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
	eventually(t, "another instance takes the slot once the late one is freed or its lease ends", func() bool {
		_, rel, err := other.l.TryAcquire(ctx, "k", 1)
		relOther = rel
		return err == nil
	})
	defer relOther()
	g := recv(t, out, waitAtOnce, "the late TryAcquire returns")
	if g.err == nil {
		t.Errorf("TryAcquire returned a slot (live: %v) %v after its call was sent, past its life %v; want an error wrapping ErrLeaseLost",
			g.alive, g.took.Round(time.Millisecond), redisslot.Life(l))
	} else if !errors.Is(g.err, redisslot.ErrLeaseLost) {
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
	result := waitingAcquire(t, ctx, l, "k", 1)
	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	relHolder() // handed to the waiter, whose try Redis refuses
	if err := recv(t, result, waitAtOnce, "the waiter's Acquire returns"); err == nil {
		t.Fatal("the waiter got a slot out of memory")
	}
	eventually(t, "the released slot freed in Redis", func() bool { return inUse(t, l, "k") == 0 })
}

// A TryAcquire that carries a free and that Redis refuses whole (out of
// memory) did not run that free: the free is sent at once, as frees run
// out of memory, not left for the next renewal round.
func TestFreeCarriedByATryAcquireRefusedWholeIsSentAtOnce(t *testing.T) {
	srv := redistest.StartWith(t, "--maxmemory-policy", "noeviction")
	ctx := ctxWithTimeout(t)
	f := newFixture(t, srv, redisslot.Options{Lease: time.Minute}) // rounds 20s apart
	var failFrees atomic.Bool
	failFrees.Store(true)
	failed := failFreesWhile(f, &failFrees)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	recv(t, failed, waitAtOnce, "the release sent no free")
	eventually(t, "the failed free waits again, no longer in flight", func() bool {
		return f.l.Stats().PendingFrees == 1 && redisslot.FreesInFlight(f.l) == 0
	})
	failFrees.Store(false)
	raw := srv.Client(t)
	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	if _, rel, err := f.l.TryAcquire(ctx, "k", 1); err == nil {
		rel()
		t.Fatal("TryAcquire got a slot out of memory")
	}
	eventually(t, "the carried free sent at once and confirmed", func() bool { return f.l.Stats().PendingFrees == 0 })
}
