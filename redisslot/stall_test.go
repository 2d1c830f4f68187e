package redisslot_test

import (
	"context"
	"errors"
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

// The stall tests stop Redis for several Leases while a Limiter holds
// slots, releases one and makes acquires that time out: every command they
// write waits in Redis's socket buffers, and runs, in any order, when Redis
// resumes.
const (
	stallLease   = 500 * time.Millisecond
	stallLimit   = 3
	stallTimeout = 100 * time.Millisecond // the client's timeouts
)

// No ghost slot survives a stall of any length: within Lease/2 of Redis
// resuming, InUse is the live holders (none: the held slots ended during
// the stall), stays so for a Lease, and the key admits exactly its limit.
// The acquires that timed out during the stall run when Redis resumes;
// their frees, whatever order Redis runs them in, leave tombstones that
// refuse them.
func TestNoGhostAfterLongStalls(t *testing.T) {
	t.Parallel() // it mostly waits out its stalls: it runs beside other such tests
	for _, c := range []struct {
		name   string
		args   []string
		stall  func(t *testing.T, srv *redistest.Server, d time.Duration, during func()) time.Time
		length time.Duration
	}{
		{"SIGSTOP for 3 Leases", nil, sigstopFor, 3 * stallLease},
		{"SIGSTOP for 10 Leases", nil, sigstopFor, 10 * stallLease},
		{"DEBUG SLEEP for 3 Leases", []string{"--enable-debug-command", "local"}, debugSleepFor, 3 * stallLease},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.StartWith(t, c.args...)
			l := stallLimiter(t, srv)
			ctx := ctxWithTimeout(t)
			var rels []func()
			for range stallLimit - 1 {
				rels = append(rels, takeDespiteTimeouts(t, l, ctx, "before the stall"))
			}
			resumed := c.stall(t, srv, c.length, func() {
				for range 3 {
					timedOutTry(t, l, "k")
				}
				rels[0]()
				timedOutTry(t, l, "k")
			})
			checkNoGhost(t, l, resumed)
			for _, rel := range rels {
				rel()
			}
		})
	}
}

// stallLimiter returns a Limiter on srv whose client times out far within
// the stall, with no retries, and its scripts loaded.
func stallLimiter(t *testing.T, srv *redistest.Server) *redisslot.Limiter {
	t.Helper()
	opts := srv.Options()
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = stallTimeout, stallTimeout, stallTimeout, stallTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	if err := redisslot.LoadScripts(ctxWithTimeout(t), c); err != nil {
		t.Fatal(err)
	}
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: stallLease, OnError: func(error) {}})
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// takeDespiteTimeouts takes a slot of "k", trying again while the short
// timeouts of l's client (far below the stall, and so within reach of a
// loaded machine) end its calls; it returns the release. ErrFull fails t.
func takeDespiteTimeouts(t *testing.T, l *redisslot.Limiter, ctx context.Context, when string) func() {
	t.Helper()
	var rel func()
	eventually(t, "a slot "+when, func() bool {
		var err error
		_, rel, err = l.TryAcquire(ctx, "k", stallLimit)
		if err != nil && errors.Is(err, redisslot.ErrFull) {
			t.Fatalf("TryAcquire %s: %v", when, err)
		}
		return err == nil
	})
	return rel
}

// timedOutTry makes a TryAcquire that times out, its command on its way to
// a stalled Redis.
func timedOutTry(t *testing.T, l *redisslot.Limiter, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stallTimeout)
	defer cancel()
	if _, _, err := l.TryAcquire(ctx, key, stallLimit); err == nil || errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire with Redis stalled: %v; want a timeout", err)
	}
}

// sigstopFor stops srv by SIGSTOP for d, runs during meanwhile, and returns
// when it resumed.
func sigstopFor(t *testing.T, srv *redistest.Server, d time.Duration, during func()) time.Time {
	t.Helper()
	pid := srv.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resume := sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	defer resume()
	during()
	time.Sleep(time.Until(start.Add(d))) // the stall's length, not a wait for a condition
	resume()
	return time.Now()
}

// debugSleepFor makes srv sleep for d with DEBUG SLEEP, runs during once it
// sleeps, and returns when the sleep ended.
func debugSleepFor(t *testing.T, srv *redistest.Server, d time.Duration, during func()) time.Time {
	t.Helper()
	raw, probe := srv.Client(t), srv.Client(t)
	if err := probe.Ping(ctxWithTimeout(t)).Err(); err != nil { // its connection opened: a slow dial is no sleep
		t.Fatal(err)
	}
	slept := make(chan error, 1)
	go func() { slept <- raw.Do(context.Background(), "DEBUG", "SLEEP", d.Seconds()).Err() }()
	eventually(t, "Redis is asleep", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*stallTimeout/2)
		defer cancel()
		return probe.Ping(ctx).Err() != nil
	})
	during()
	select {
	case err := <-slept:
		if err != nil {
			t.Fatalf("DEBUG SLEEP: %v", err)
		}
	case <-time.After(waitAfter(d)):
		t.Fatalf("DEBUG SLEEP %v did not return", d)
	}
	return time.Now()
}

// checkNoGhost checks that, within Lease/2 of resumed, key "k" has no
// holder, that it keeps none for a Lease, and that it then admits exactly
// its limit.
func checkNoGhost(t *testing.T, l *redisslot.Limiter, resumed time.Time) {
	t.Helper()
	ctx := ctxWithTimeout(t)
	deadline := resumed.Add(stallLease / 2)
	for n := -1; n != 0; {
		var err error
		n, err = l.InUse(ctx, "k")
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("InUse = %d (%v) %v after Redis resumed; want 0, no ghost, within Lease/2 %v", n, err, time.Since(resumed), stallLease/2)
		}
		time.Sleep(pollInterval)
	}
	// The client's short timeouts may end a call on a loaded machine: only
	// an answer counts, and the Lease must see some.
	answers := 0
	for end := time.Now().Add(stallLease); time.Now().Before(end); time.Sleep(10 * pollInterval) {
		n, err := l.InUse(ctx, "k")
		if err == nil && n != 0 {
			t.Fatalf("InUse = %d %v after Redis resumed; want 0: a ghost came back", n, time.Since(resumed))
		}
		if err == nil {
			answers++
		}
	}
	if answers == 0 {
		t.Fatalf("no InUse call answered within a Lease after Redis resumed")
	}
	for i := range stallLimit {
		rel := takeDespiteTimeouts(t, l, ctx, fmt.Sprintf("%d after the stall", i))
		defer rel()
	}
	eventually(t, "ErrFull beyond the limit after the stall", func() bool {
		_, rel, err := l.TryAcquire(ctx, "k", stallLimit)
		if err == nil {
			rel()
			t.Fatalf("TryAcquire beyond the limit after the stall took a slot; want ErrFull")
		}
		return errors.Is(err, redisslot.ErrFull)
	})
}

// A free that overtakes its acquire refuses it: the acquire timed out for
// its caller, its free (with a tombstone) reached Redis first, and the
// acquire, run after it, takes no slot and joins no queue.
func TestFreeThatOvertakesItsAcquireRefusesIt(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	held := holdFirstAcquire(f) // the acquire's command, not sent
	ctx := ctxWithTimeout(t)
	if _, _, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire whose reply is lost: %v; want the timeout", err)
	}
	eventually(t, "the free of the unsure member confirmed", func() bool { return f.l.Stats().PendingFrees == 0 })
	late := redis.NewCmd(ctx, (*held)...)
	if err := raw.Process(ctx, late); err != nil {
		t.Fatalf("the acquire, run after its free: %v", err)
	}
	if r, err := late.Int64Slice(); err != nil || len(r) != 3 || r[0] != 5 {
		t.Errorf("the acquire, run after its free, answered %v (%v); want {5 0 0}: refused by its tombstone", r, err)
	}
	if n := inUse(t, f.l, "k"); n != 0 {
		t.Errorf("InUse = %d after the late acquire; want 0", n)
	}
	if n, _ := raw.ZCard(ctx, redisslot.TombstoneKey(f.l, "k")).Result(); n != 1 {
		t.Errorf("%d tombstones; want 1", n)
	}
}

// An acquire that Redis refuses because a free of its member ran first
// (its tombstone is there) returns an error at once: not ErrFull, and no
// wait in line that a later try could end with a slot. No slot is taken.
func TestAcquireRefusedByItsTombstoneReturnsAnError(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	tombs := redisslot.TombstoneKey(f.l, "k")
	forget := redisNowMs(t, raw) + float64(time.Hour/time.Millisecond)
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		member := fmt.Sprint(cmds[0].Args()[scriptArg])
		if err := raw.ZAdd(ctx, tombs, redis.Z{Score: forget, Member: member}).Err(); err != nil {
			return err
		}
		return next()
	}})
	for _, tc := range []struct {
		name    string
		acquire func(context.Context, string, int) (context.Context, func(), error)
	}{{"TryAcquire", f.l.TryAcquire}, {"Acquire", f.l.Acquire}} {
		sctx, rel, err := tc.acquire(ctxWithin(t, waitAtOnce), "k", 1)
		if rel != nil {
			rel()
		}
		if err == nil || errors.Is(err, redisslot.ErrFull) || errors.Is(err, context.DeadlineExceeded) || sctx != nil {
			t.Errorf("%s refused by its member's tombstone = %v, %v, %v; want nil, nil and an error that is not ErrFull", tc.name, sctx, rel != nil, err)
		}
	}
	if n := inUse(t, f.l, "k"); n != 0 {
		t.Errorf("InUse = %d after acquires refused by their tombstones; want 0", n)
	}
}

// A free of an unsure member (its acquire timed out) is not settled by
// the next acquire of its key, which takes only released slots with it:
// the free still goes with its tombstone, so the timed-out acquire, run
// late, is refused.
func TestNextAcquireDoesNotTakeAnUnsureFreeWithIt(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // the canary's first look is done: it asks no round of the acquires below
	raw := srv.Client(t)
	held := holdFirstAcquire(f) // the acquire's command, not sent
	var failFrees atomic.Bool
	var failed atomic.Int64 // free calls the hook failed
	failFrees.Store(true)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if failFrees.Load() {
			failed.Add(1)
			return failWith(cmds, errFreeFailed)
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	if _, _, err := f.l.TryAcquire(ctx, "k", 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire whose reply is lost: %v; want the timeout", err)
	}
	_, rel := mustTry(t, f.l, ctx, "k", 2) // the next acquire of the key, while the free fails
	defer rel()
	// The free's first send, kicked at once, has settled: it failed, and a
	// round now finds it pending, not in flight, and sends it; or a round
	// carried it behind a renewal, past the hook, which matches a call by
	// its first command, and Redis confirmed it.
	eventually(t, "the free of the unsure member sent once and settled", func() bool {
		return (failed.Load() > 0 || f.l.Stats().PendingFrees == 0) && redisslot.FreesInFlight(f.l) == 0
	})
	failFrees.Store(false)
	redisslot.RenewNow(f.l) // sends the pending frees
	eventually(t, "the free of the unsure member confirmed", func() bool { return f.l.Stats().PendingFrees == 0 })
	late := redis.NewCmd(ctx, (*held)...)
	if err := raw.Process(ctx, late); err != nil {
		t.Fatalf("the acquire, run after its free: %v", err)
	}
	if r, err := late.Int64Slice(); err != nil || len(r) != 3 || r[0] != 5 {
		t.Errorf("the acquire, run after its free, answered %v (%v); want {5 0 0}: refused by its tombstone", r, err)
	}
	if n := inUse(t, f.l, "k"); n != 1 {
		t.Errorf("InUse = %d after the late acquire; want 1, the next acquire's slot", n)
	}
}

// A tombstone outlives the Lease by far: an acquire that runs later than a
// Lease after its free (held up in the network, say) is still refused.
func TestTombstoneRefusesAnAcquireRunMoreThanALeaseAfterItsFree(t *testing.T) {
	srv := redistest.Shared(t)
	const lease = 200 * time.Millisecond
	f := newFixture(t, srv, redisslot.Options{Lease: lease})
	raw := srv.Client(t)
	held := holdFirstAcquire(f) // the acquire's command, not sent
	ctx := ctxWithTimeout(t)
	if _, _, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire whose reply is lost: %v; want the timeout", err)
	}
	eventually(t, "the free of the unsure member confirmed", func() bool { return f.l.Stats().PendingFrees == 0 })
	time.Sleep(5 * lease) // the acquire is held up for five Leases
	late := redis.NewCmd(ctx, (*held)...)
	if err := raw.Process(ctx, late); err != nil {
		t.Fatalf("the acquire, run five Leases after its free: %v", err)
	}
	if r, err := late.Int64Slice(); err != nil || len(r) != 3 || r[0] != 5 {
		t.Errorf("the acquire, run five Leases after its free, answered %v (%v); want {5 0 0}: refused by its tombstone", r, err)
	}
	if n := inUse(t, f.l, "k"); n != 0 {
		t.Errorf("InUse = %d after the late acquire; want 0", n)
	}
}

// holdFirstAcquire makes f's first acquire call fail as timed out without
// sending it, as a call whose reply was lost (it may have reached Redis),
// and returns where its arguments go, for the test to run it late.
func holdFirstAcquire(f *fixture) *[]any {
	var held []any
	var once sync.Once
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		hold := false
		once.Do(func() { held, hold = append([]any(nil), cmds[0].Args()...), true })
		if hold {
			return failWith(cmds, context.DeadlineExceeded)
		}
		return next()
	}})
	return &held
}
