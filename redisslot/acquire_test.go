package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 1: one script admits atomically, and never more than limit hold a
// key across instances. The first holders keep their slots until limit of
// them hold at once, so that the key is full and contended by construction
// (and a Limiter that admitted fewer than limit would fail).
func TestAdmissionNeverExceedsLimitAcrossTwoLimiters(t *testing.T) {
	_, a, b := pair(t, redisslot.Options{Lease: testLease})
	const (
		limit   = 3
		workers = 8 // per Limiter
		rounds  = 15
	)
	ctx := ctxWithTimeout(t)
	var holders, most, acquired atomic.Int64
	full := make(chan struct{}) // closed when limit hold at once
	var fullOnce sync.Once
	fullGuard, stopGuard := context.WithTimeout(ctx, waitAtOnce) // a hang guard
	defer stopGuard()
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for _, l := range []*redisslot.Limiter{a.l, b.l} {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					// A hand-off comes at once: a bounded wait.
					actx, cancel := context.WithTimeout(ctx, waitAtOnce)
					_, rel, err := l.Acquire(actx, "k", limit)
					if err != nil {
						cancel()
						errs <- err
						return
					}
					// Counted inside the critical section: between the
					// acquire's return and the release's call.
					n := holders.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					acquired.Add(1)
					if n == limit {
						fullOnce.Do(func() { close(full) })
					}
					select { // the first holders wait for the key to fill
					case <-full:
					case <-fullGuard.Done():
					}
					time.Sleep(time.Millisecond) // work, so that holders overlap
					holders.Add(-1)
					rel()
					cancel()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Acquire: %v; want a slot within %v", err, waitAtOnce)
	}
	if m := most.Load(); m != limit {
		t.Errorf("%d holders at once across two Limiters; want the limit, %d", m, limit)
	}
	if got, want := acquired.Load(), int64(2*workers*rounds); got != want {
		t.Errorf("%d acquires; want %d", got, want)
	}
	t.Logf("most holders at once: %d (limit %d), %d acquires", most.Load(), limit, acquired.Load())
	// A release does not wait for its free: InUse may lag it a moment.
	eventually(t, "InUse is 0 once every free has arrived", func() bool { return inUse(t, a.l, "k") == 0 })
}

// Promise 1: the documented key layout.
func TestSlotSetIsOneSortedSetScoredByLeaseExpiryInRedisMs(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // the round of its canary's first confirmation is past
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	before := redisNowMs(t, raw)
	_, rel1 := mustTry(t, f.l, ctx, "user:7", 5)
	defer rel1()
	_, rel2 := mustTry(t, f.l, ctx, "user:7", 5)
	defer rel2()
	after := redisNowMs(t, raw)

	rkey := testPrefix(t) + "{user:7}"
	typ, err := raw.Type(ctx, rkey).Result()
	if err != nil || typ != "zset" {
		t.Fatalf("TYPE %s = %q, %v; want zset", rkey, typ, err)
	}
	zs := members(t, raw, rkey)
	if len(zs) != 2 {
		t.Fatalf("ZRANGE %s: %d members; want one per held slot, 2", rkey, len(zs))
	}
	lease := float64(longLease.Milliseconds())
	for _, z := range zs {
		if z.Score != math.Trunc(z.Score) {
			t.Errorf("score %v of %v is not whole milliseconds", z.Score, z.Member)
		}
		if z.Score < math.Floor(before)+lease || z.Score > after+lease {
			t.Errorf("score %.0f; want Redis time in ms + Lease, within [%.0f, %.0f]", z.Score, math.Floor(before)+lease, after+lease)
		}
	}
	if ttl := raw.PTTL(ctx, rkey).Val(); ttl <= longLease || ttl > 2*longLease {
		t.Errorf("PTTL %s = %v; want the slot set to outlive its leases, and to expire within two leases (%v, %v]", rkey, ttl, longLease, 2*longLease)
	}
}

// Promise 2: ErrFull at once, and nil results on every error.
func TestTryAcquireReturnsErrFullAtOnceWhenFull(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	warmUp(t, f.l)
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, f.l, ctx, "k", 2)
	defer rel1()
	_, rel2 := mustTry(t, f.l, ctx, "k", 2)
	defer rel2()

	f.count.Reset()
	sctx, rel, err := f.l.TryAcquire(ctx, "k", 2)
	if !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire on a full key: err = %v; want ErrFull", err)
	}
	if !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("TryAcquire on a full key: err = %q; want it to name the key", err)
	}
	if sctx != nil || rel != nil {
		t.Errorf("TryAcquire on a full key returned a context or a release; want nil, nil")
	}
	if n := f.count.RoundTrips(); n != 1 {
		t.Errorf("TryAcquire on a full key made %d round trips; want 1", n)
	}
	if n := inUse(t, f.l, "k"); n != 2 {
		t.Errorf("InUse = %d after a refused TryAcquire; want 2", n)
	}
}

// Promise 2: on an error, both calls return a nil context and a nil release.
func TestErrorsComeWithNilContextAndNilRelease(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease, MaxWaiters: 1})
	ctx := ctxWithin(t, waitAtOnce) // an Acquire that took a bad argument would wait
	_, rel := mustTry(t, f.l, ctx, "full", 1)
	defer rel()
	done, cancel := context.WithCancel(ctx)
	cancel()

	type acquireFunc func(context.Context, string, int) (context.Context, func(), error)
	for _, call := range []struct {
		name string
		fn   acquireFunc
	}{{"TryAcquire", f.l.TryAcquire}, {"Acquire", f.l.Acquire}} {
		for _, c := range []struct {
			name  string
			ctx   context.Context
			key   string
			limit int
		}{
			{"empty key", ctx, "", 1},
			{"limit 0", ctx, "k", 0},
			{"done ctx", done, "k", 1},
		} {
			sctx, rel, err := call.fn(c.ctx, c.key, c.limit)
			if err == nil || sctx != nil || rel != nil {
				t.Errorf("%s with %s = %v, %v, %v; want nil, nil, an error", call.name, c.name, sctx, rel != nil, err)
			}
		}
	}
	if sctx, rel, err := f.l.TryAcquire(ctx, "full", 1); err == nil || sctx != nil || rel != nil {
		t.Errorf("TryAcquire on a full key = %v, %v, %v; want nil, nil, ErrFull", sctx, rel != nil, err)
	}
}

// Promise 2: the acquire script is idempotent per member id, so a client
// that sends it twice (a retry after a lost reply) takes one slot and is not
// refused by its own first run.
func TestAcquireSentTwiceTakesOneSlotAndDoesNotCountItself(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if err := next(); err != nil {
			return err
		}
		return next() // the same command again, as a client retry sends it
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	if n := inUse(t, f.l, "k"); n != 1 {
		t.Errorf("InUse = %d after one acquire sent twice; want 1", n)
	}
	rel()
	eventually(t, "InUse is 0 once the free has arrived (no orphan)", func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 2: an acquire that a client sends again after its slot's lease
// ended in Redis, while another holds the key, is refused: the retry does
// not bring the lapsed member back beyond the limit.
func TestAcquireSentAgainAfterItsLeaseEndedIsRefusedWhenFull(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: longLease}
	f, other := newFixture(t, srv, opts), newFixture(t, srv, opts)
	var sent atomic.Pointer[[]any]
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		args := append([]any(nil), cmds[0].Args()...)
		sent.CompareAndSwap(nil, &args)
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	raw := srv.Client(t)
	rkey := redisslot.SlotKey(f.l, "k")
	zs := members(t, raw, rkey)
	if len(zs) != 1 {
		t.Fatalf("slot set %v after one acquire; want one member", zs)
	}
	// Its lease ends in Redis (a renewal that never arrived), and another takes the key.
	if err := raw.ZAdd(ctx, rkey, redis.Z{Score: redisNowMs(t, raw) - 1000, Member: zs[0].Member}).Err(); err != nil {
		t.Fatal(err)
	}
	_, rel2 := mustTry(t, other.l, ctx, "k", 1)
	defer rel2()
	res, err := raw.Do(ctx, (*sent.Load())...).Int64Slice()
	if err != nil {
		t.Fatalf("the acquire sent again: %v", err)
	}
	if len(res) != 3 || res[0] == 1 {
		t.Errorf("the acquire sent again after its lease ended answered %v; want it refused, the key being full", res)
	}
	if n := inUse(t, f.l, "k"); n != 1 {
		t.Errorf("InUse = %d after the acquire was sent again; want 1, the other holder", n)
	}
}

// Promise 2: an acquire whose outcome is unknown leaves no orphan.
func TestAcquireWithLostReplyLeavesNoOrphan(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	errLostReply := errors.New("test: reply lost")
	var lose, admitted atomic.Bool
	lose.Store(true)
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next() // the script runs in Redis
		if admittedBy(cmds[0]) {
			admitted.Store(true)
		}
		if err == nil && lose.Load() {
			return failWith(cmds, errLostReply)
		}
		return err
	}})
	ctx := ctxWithTimeout(t)
	sctx, rel, err := f.l.TryAcquire(ctx, "k", 1)
	if !errors.Is(err, errLostReply) || sctx != nil || rel != nil {
		t.Fatalf("TryAcquire with a lost reply = %v, %v, %v; want nil, nil, the error", sctx, rel != nil, err)
	}
	if !admitted.Load() {
		t.Fatal("the acquire script did not admit the member; the test proves nothing")
	}
	eventually(t, "the member of the failed acquire is freed", func() bool { return inUse(t, f.l, "k") == 0 })
	lose.Store(false)
	_, rel = mustTry(t, f.l, ctx, "k", 1)
	rel()
}

// Promise 2: an acquire whose ctx ends while Redis admits it returns
// ctx's error and gives the slot back at once, not when its lease ends.
func TestAcquireWhoseCtxEndsAsItIsAdmittedGivesTheSlotBack(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	cctx, cancel := context.WithCancel(ctxWithTimeout(t))
	var admitted atomic.Bool
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if admittedBy(cmds[0]) {
			admitted.Store(true)
			cancel() // the caller gives up as the reply comes
		}
		return err
	}})
	sctx, rel, err := f.l.TryAcquire(cctx, "k", 1)
	if !errors.Is(err, context.Canceled) || sctx != nil || rel != nil {
		t.Fatalf("TryAcquire whose ctx ended as it was admitted = %v, %v, %v; want nil, nil, context.Canceled", sctx, rel != nil, err)
	}
	if !admitted.Load() {
		t.Fatal("the acquire script did not admit the member; the test proves nothing")
	}
	eventually(t, fmt.Sprintf("the slot given back (its lease is %v)", longLease), func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 2: each caller is admitted against its own limit.
func TestCallersWithDifferentLimitsAreEachAdmittedAgainstTheirOwn(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	for range 3 {
		_, rel := mustTry(t, f.l, ctx, "k", 5)
		defer rel()
	}
	if _, _, err := f.l.TryAcquire(ctx, "k", 3); !errors.Is(err, redisslot.ErrFull) {
		t.Errorf("TryAcquire(limit 3) with 3 holders: err = %v; want ErrFull", err)
	}
	_, rel := mustTry(t, f.l, ctx, "k", 5)
	defer rel()
	if _, _, err := f.l.TryAcquire(ctx, "k", 4); !errors.Is(err, redisslot.ErrFull) {
		t.Errorf("TryAcquire(limit 4) with 4 holders: err = %v; want ErrFull", err)
	}
}

type ctxKey struct{}

// Promise 3: the slot's context keeps ctx's values.
func TestSlotContextKeepsValues(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := context.WithValue(ctxWithTimeout(t), ctxKey{}, "v")
	sctx, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	if got := sctx.Value(ctxKey{}); got != "v" {
		t.Errorf("slot context Value = %v; want v", got)
	}
}

// Promise 3: done on release, with cause context.Canceled, before the free
// is sent.
func TestSlotContextIsDoneOnReleaseBeforeTheFreeIsSent(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var sctx atomic.Pointer[context.Context]
	var doneAtSend atomic.Int32 // 1 done, 2 not done
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if c := sctx.Load(); c != nil {
			if (*c).Err() != nil {
				doneAtSend.Store(1)
			} else {
				doneAtSend.Store(2)
			}
		}
		return next()
	}})
	c, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	sctx.Store(&c)
	if c.Err() != nil {
		t.Fatalf("slot context done while held: %v", context.Cause(c))
	}
	rel()
	if got := context.Cause(c); got != context.Canceled {
		t.Errorf("slot context cause after release = %v; want context.Canceled", got)
	}
	eventually(t, "release sends a free", func() bool { return doneAtSend.Load() != 0 })
	switch doneAtSend.Load() {
	case 2:
		t.Errorf("the free was sent while the slot context was not yet done")
	}
}

// Promises 3 and 4: a client hang-up ends the slot's context with ctx's
// cause, and frees the slot without a call of release.
func TestHangUpEndsSlotContextAndFreesTheSlot(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	errHangUp := errors.New("client hung up")
	ctx, cancel := context.WithCancelCause(ctxWithTimeout(t))
	sctx, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	cancel(errHangUp)
	recv(t, sctx.Done(), waitAtOnce, "slot context not done after the hang-up")
	if got := context.Cause(sctx); got != errHangUp {
		t.Errorf("slot context cause = %v; want ctx's cause %v", got, errHangUp)
	}
	eventually(t, "the slot is freed after the hang-up", func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 8: bad arguments return errors that say what is wrong.
func TestBadArgumentsReturnErrorsThatSaySo(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{})
	ctx := ctxWithin(t, waitAtOnce) // an Acquire that took a bad limit would wait
	for _, c := range []struct {
		key   string
		limit int
		want  string
	}{
		{"", 1, "empty key"},
		{"k", 0, "limit 0"},
		{"k", -2, "limit -2"},
	} {
		for name, fn := range map[string]func(context.Context, string, int) (context.Context, func(), error){
			"TryAcquire": f.l.TryAcquire, "Acquire": f.l.Acquire,
		} {
			_, _, err := fn(ctx, c.key, c.limit)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s(%q, %d) error = %v; want one that says %q", name, c.key, c.limit, err, c.want)
			}
		}
	}
	if _, err := f.l.InUse(ctx, ""); err == nil || !strings.Contains(err.Error(), "empty key") {
		t.Errorf(`InUse("") error = %v; want one that says "empty key"`, err)
	}
}

// Promise 8: misuse panics with a message that starts "redisslot:".
func TestMisusePanicsWithRedisslotPrefix(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{})
	var nilCtx context.Context
	for name, fn := range map[string]func(){
		"TryAcquire(nil ctx)":   func() { _, _, _ = f.l.TryAcquire(nilCtx, "k", 1) },
		"Acquire(nil ctx)":      func() { _, _, _ = f.l.Acquire(nilCtx, "k", 1) },
		"InUse(nil ctx)":        func() { _, _ = f.l.InUse(nilCtx, "k") },
		"New(nil client)":       func() { redisslot.New(nil, redisslot.Options{}) },
		"New(negative Lease)":   func() { redisslot.New(f.client, redisslot.Options{Lease: -1}) },
		"New(negative Release)": func() { redisslot.New(f.client, redisslot.Options{ReleaseTimeout: -time.Second}) },
		"New(negative waiters)": func() { redisslot.New(f.client, redisslot.Options{MaxWaiters: -1}) },
		"New(Prefix with {})":   func() { redisslot.New(f.client, redisslot.Options{Prefix: "app{}:"}) },
	} {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if !strings.HasPrefix(s, "redisslot:") {
					t.Errorf("%s panicked with %v; want a message starting %q", name, r, "redisslot:")
				}
			}()
			fn()
		}()
	}
}

// Promise 8: Redis errors come back wrapped, naming the operation and key.
func TestRedisErrorsAreWrappedNamingOperationAndKey(t *testing.T) {
	srv := redistest.Shared(t)
	ctx := ctxWithTimeout(t)

	t.Run("WRONGTYPE", func(t *testing.T) {
		f := newFixture(t, srv, redisslot.Options{})
		raw := srv.Client(t)
		if err := raw.Set(ctx, testPrefix(t)+"{str}", "x", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.l.TryAcquire(ctx, "str", 1)
		var rerr redis.Error
		if !errors.As(err, &rerr) || !strings.HasPrefix(rerr.Error(), "WRONGTYPE") {
			t.Errorf("TryAcquire on a string key: err = %v; want a wrapped WRONGTYPE redis.Error", err)
		}
		if err == nil || !strings.Contains(err.Error(), `"str"`) || !strings.Contains(err.Error(), "acquire") {
			t.Errorf("TryAcquire error %q does not name the operation and the key", err)
		}
		_, err = f.l.InUse(ctx, "str")
		if !errors.As(err, &rerr) || !strings.Contains(err.Error(), `"str"`) {
			t.Errorf("InUse on a string key: err = %v; want a wrapped redis.Error naming the key", err)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		opts := srv.Options()
		opts.Addr = refusedAddr(t)
		c := redis.NewClient(opts)
		defer c.Close()
		l := redisslot.New(c, redisslot.Options{OnError: func(error) {}})
		defer l.Close()
		_, _, err := l.TryAcquire(ctx, "k", 1)
		if !isConnRefused(err) || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("TryAcquire with Redis down: err = %v; want a wrapped connection refused naming the key", err)
		}
		_, _, err = l.Acquire(ctxWithin(t, waitAtOnce), "k", 1)
		if !isConnRefused(err) {
			t.Errorf("Acquire with Redis down: err = %v; want a wrapped connection refused", err)
		}
		_, err = l.InUse(ctx, "k")
		if !isConnRefused(err) {
			t.Errorf("InUse with Redis down: err = %v; want a wrapped connection refused", err)
		}
	})
}

func isConnRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
