package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// restartLease is long enough that Redis stays down for well under a Lease
// (about 3.5s usually, against a margin of Lease less a renewal interval:
// 13s): the held slots then outlive the outage by the local clock, and only
// the restart, which empties Redis, takes their members. The test does not
// wait for the renewer's next round: it runs one itself.
const restartLease = 20 * time.Second

// callBound is the ctx timeout of each call made while Redis is down, and
// callSlack what a loaded machine may add to it.
const (
	callBound = 500 * time.Millisecond
	callSlack = 2 * time.Second
)

// The redis-server is stopped while slots are held and
// waiters wait, then started again, empty, on the same port.
//
// While it is down, every call returns an error within its ctx, a release
// at once, waiters end with an error rather than hang, and
// OnError hears of the failed renewals and frees. Once it is back, the held
// slots whose members vanished are lost leases with their contexts
// cancelled, and Acquire works again.
func TestRedisStoppedAndRestartedOnTheSamePort(t *testing.T) {
	t.Parallel() // it mostly waits: it runs beside other such tests
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: restartLease, ReleaseTimeout: time.Second})
	gate := gateCommands(f.client)
	ctx := ctxWithTimeout(t)
	// The canary's first look comes first: a look while an acquire's call
	// is on its way asks a round, which could renew b with Redis down before
	// b's release and be b's first failed background call.
	warmUp(t, f.l)

	sa1, rela1 := mustTry(t, f.l, ctx, "a", 2)
	defer rela1()
	sa2, rela2 := mustTry(t, f.l, ctx, "a", 2)
	defer rela2()
	_, relb := mustTry(t, f.l, ctx, "b", 1)
	waiters := make(chan outcome, 2)
	for i := range 2 {
		queueAcquire(t, f.l, ctx, "a", 2, i, waiters)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()

	// Calls while Redis is down.
	callsEndWithinTheirCtx(t, ctx, f.l, "down")
	releaseReturnsAtOnce(t, gate, relb, "down")
	for range 2 {
		o := nextOutcome(t, waiters)
		if o.err == nil {
			t.Fatalf("waiter %d got a slot while Redis was down", o.who)
		}
		if errors.Is(o.err, context.DeadlineExceeded) || errors.Is(o.err, redisslot.ErrFull) {
			t.Errorf("waiter %d: %v; want a Redis error", o.who, o.err)
		}
		t.Logf("waiter %d ended %v after Redis stopped: %v", o.who, o.at.Sub(down).Round(time.Millisecond), o.err)
	}
	reported := func(what ...string) bool { // one report holds every part of what
		for _, err := range f.errs.all() {
			all := true
			for _, w := range what {
				all = all && strings.Contains(err.Error(), w)
			}
			if all {
				return true
			}
		}
		return false
	}
	redisslot.RenewNow(f.l) // a round with Redis down, and its report
	if n := f.l.Stats().RenewalFailures; n == 0 {
		t.Errorf("Stats().RenewalFailures = 0 after a round with Redis down; want the failed renewal counted")
	}
	// The report names the key and counts its failures; the first of them
	// may be another background call of the key (a waiter's place in line).
	eventually(t, "OnError hears of the key's failed background calls", func() bool {
		return reported(`key "a": `, "background calls failed")
	})
	eventually(t, "OnError hears of the failed free of b", func() bool {
		return reported(`key "b": `, `background calls failed, the first: free 1 slots`)
	})
	if err := context.Cause(sa1); err != nil {
		t.Fatalf("slot lost after %v with Redis down (%v); want it held for a whole Lease %v",
			time.Since(down), err, restartLease)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	downFor := time.Since(down)
	t.Logf("Redis was down for %v (Lease %v)", downFor.Round(time.Millisecond), restartLease)
	// A round finds the members gone. Right after the restart go-redis may
	// still answer with its last dial error, so rounds run until one gets
	// through.
	eventually(t, "a renewal round finds the members gone", func() bool {
		redisslot.RenewNow(f.l)
		return sa1.Err() != nil && sa2.Err() != nil
	})

	for i, sctx := range []context.Context{sa1, sa2} {
		select {
		case <-sctx.Done():
		case <-time.After(waitAtOnce):
			t.Fatalf("slot %d not done %v after the restart", i, waitAtOnce)
		}
		if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
			t.Errorf("slot %d: cause %v; want ErrLeaseLost", i, got)
		}
	}
	t.Logf("held slots lost %v after the restart", time.Since(down)-downFor)
	// The round's report follows the cancellations.
	eventually(t, "OnError hears of the vanished members as lost leases", func() bool { return reported("gone from Redis") })

	// Acquire works again. As with the rounds above, its first calls may
	// still fail with a dial error from the outage: go-redis's pool can
	// answer with its last dial error for a while after Redis is back.
	for i := range 2 {
		var rel func()
		failed := 0
		eventually(t, "Acquire works again after the restart", func() bool {
			_, r, err := f.l.Acquire(ctx, "a", 2)
			if err != nil {
				if failed++; failed == 1 {
					t.Logf("Acquire %d after the restart, first failure: %v", i, err)
				}
				return false
			}
			rel = r
			return true
		})
		defer rel()
	}
	if n := inUse(t, f.l, "a"); n != 2 {
		t.Errorf("InUse after the restart = %d; want 2", n)
	}
}

// While the redis-server is paused (SIGSTOP: connections
// open, nothing answers), each call returns within its ctx, a release
// within ReleaseTimeout, and the Limiter works on once Redis resumes.
func TestCallsWhileRedisIsPausedReturnWithinTheirCtx(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: restartLease, ReleaseTimeout: time.Second})
	gate := gateCommands(f.client)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	info, err := raw.InfoMap(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(info["Server"]["process_id"])
	if err != nil {
		t.Fatalf("INFO server process_id: %v", err)
	}
	sa, rela := mustTry(t, f.l, ctx, "a", 2)
	defer rela()
	_, relb := mustTry(t, f.l, ctx, "b", 1)

	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	defer resume()
	paused := time.Now()

	callsEndWithinTheirCtx(t, ctx, f.l, "paused")
	releaseReturnsAtOnce(t, gate, relb, "paused")
	resume()
	t.Logf("Redis was paused for %v (Lease %v)", time.Since(paused).Round(time.Millisecond), restartLease)

	_, rel, err := f.l.Acquire(ctx, "a", 2)
	if err != nil {
		t.Fatalf("Acquire after Redis resumed: %v", err)
	}
	rel()
	if err := context.Cause(sa); err != nil {
		t.Errorf("slot held across the pause ended: %v; want it held", err)
	}
}

// callsEndWithinTheirCtx checks that TryAcquire, Acquire and InUse on l,
// with Redis in the given state ("down", "paused"), fail with a Redis error
// or ctx's, within callBound.
func callsEndWithinTheirCtx(t *testing.T, ctx context.Context, l *redisslot.Limiter, state string) {
	t.Helper()
	calls := []struct {
		what string
		call func(ctx context.Context) error
	}{
		{"TryAcquire", func(ctx context.Context) error {
			_, rel, err := l.TryAcquire(ctx, "c", 1) // it must fail while Redis is down or paused
			if err == nil {
				rel()
			}
			return err
		}},
		{"Acquire", func(ctx context.Context) error {
			_, rel, err := l.Acquire(ctx, "c", 1) // it must fail while Redis is down or paused
			if err == nil {
				rel()
			}
			return err
		}},
		{"InUse", func(ctx context.Context) error {
			_, err := l.InUse(ctx, "a")
			return err
		}},
	}
	for _, c := range calls {
		cctx, cancel := context.WithTimeout(ctx, callBound)
		start := time.Now()
		err := c.call(cctx)
		took := time.Since(start)
		cancel()
		if err == nil {
			t.Errorf("%s with Redis %s: no error", c.what, state)
		} else if errors.Is(err, redisslot.ErrFull) || errors.Is(err, redisslot.ErrClosed) {
			t.Errorf("%s with Redis %s: %v; want a Redis error or ctx's", c.what, state, err)
		}
		if took > callBound+callSlack {
			t.Errorf("%s with Redis %s took %v; want it bounded by its ctx (%v)", c.what, state, took, callBound)
		}
		t.Logf("%s with Redis %s: %v after %v", c.what, state, err, took.Round(time.Microsecond))
	}
}

// A commandGate holds back every command a client sends while it is shut,
// so that a test can prove that a call does not wait for Redis: one that
// did would not return while the gate is shut.
type commandGate struct{ shut atomic.Pointer[chan struct{}] }

// gateCommands adds an open commandGate to c.
func gateCommands(c *redis.Client) *commandGate {
	g := &commandGate{}
	c.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if ch := g.shut.Load(); ch != nil {
			select {
			case <-*ch:
			case <-ctx.Done():
				return failWith(cmds, ctx.Err())
			}
		}
		return next()
	}})
	return g
}

// releaseReturnsAtOnce calls rel, a release on a Limiter whose client has
// gate g, with g shut, and checks that it returns: a release that sent a
// command and waited for it (its free, say) would hang until the hang
// guard, waitAtOnce. Then it opens g.
func releaseReturnsAtOnce(t *testing.T, g *commandGate, rel func(), state string) {
	t.Helper()
	shut := make(chan struct{})
	g.shut.Store(&shut)
	returned := make(chan struct{})
	go func() {
		rel()
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(waitAtOnce):
		t.Errorf("release with Redis %s did not return within %v while every command was held back: it waits for Redis", state, waitAtOnce)
	}
	g.shut.Store(nil)
	close(shut)
	<-returned
}

// restartBound is how long after Redis answers again, empty, the slots of
// the Limiters under load may still be held by the holders from before
// the restart: a call of each succeeds (a caller's, or a probe sent every
// 100ms while Redis did not answer), each then runs a renewal round at
// once, and that round finds the members gone: tens of milliseconds on a
// quiet machine. The bound allows for one at load 10 (where an instance
// whose calls all failed took 1.75s to reach Redis again), and still tells
// this from waiting for the next round, Lease/3 (10s) after the slots were
// taken.
const restartBound = 4 * time.Second

// Under load, after Redis is killed and restarted empty on the same port,
// the holders from before the restart end within restartBound of the
// first admission into the empty Redis: that is how long the limit may be
// exceeded.
func TestRestartUnderLoadEndsOldHoldersAtOnce(t *testing.T) {
	repeat(t, restartUnderLoadOnce)
}

func restartUnderLoadOnce(t *testing.T) {
	srv := redistest.Start(t)
	opts := redisslot.Options{Lease: 30 * time.Second, ReleaseTimeout: time.Second, OnError: func(error) {}}
	ls := []*redisslot.Limiter{newFixture(t, srv, opts).l, newFixture(t, srv, opts).l}
	ctx := ctxWithTimeout(t)
	const limit = 4
	var old []context.Context // the holders from before the restart, held until lost
	for _, l := range ls {
		for range limit / 2 {
			sctx, rel := mustTry(t, l, ctx, "k", limit)
			defer rel()
			old = append(old, sctx)
		}
	}
	ended := make([]atomic.Int64, len(old)) // UnixNano when each old holder's context ended
	for i, sctx := range old {
		context.AfterFunc(sctx, func() { ended[i].Store(time.Now().UnixNano()) })
	}
	var restarted, firstNew atomic.Int64 // UnixNano of the restart, and of the first admission after it
	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	for _, l := range ls {
		for range 3 {
			load.Add(1)
			go func() {
				defer load.Done()
				churn(loadCtx, l, limit, &restarted, &firstNew)
			}()
		}
	}
	time.Sleep(50 * time.Millisecond) // some load before the kill: a duration of the test, not a wait for a condition
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted.Store(time.Now().UnixNano())
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every old holder ends, and a caller is admitted into the restarted Redis", func() bool {
		if firstNew.Load() == 0 {
			return false
		}
		for i := range ended {
			if ended[i].Load() == 0 {
				return false
			}
		}
		return true
	})
	stopLoad()
	load.Wait()
	first := firstNew.Load()
	var worst time.Duration
	for i := range ended {
		worst = max(worst, time.Duration(ended[i].Load()-first))
		if got := context.Cause(old[i]); got != redisslot.ErrLeaseLost {
			t.Errorf("old holder %d: cause %v; want ErrLeaseLost", i, got)
		}
	}
	t.Logf("old holders ended at most %v after the first admission into the restarted Redis", worst)
	if worst > restartBound {
		t.Errorf("an old holder ended %v after the first admission into the restarted Redis; want within %v", worst, restartBound)
		for i := range ended {
			t.Logf("old holder %d (Limiter %d) ended %v after the restart began, %v after the first admission",
				i, i/(limit/2), time.Duration(ended[i].Load()-restarted.Load()), time.Duration(ended[i].Load()-first))
		}
	}
}

// churn takes and releases slots of "k" on l until ctx ends, waiting a
// little after each error, and records in first the time of the first
// admission after the time in restarted, once that is set.
func churn(ctx context.Context, l *redisslot.Limiter, limit int, restarted, first *atomic.Int64) {
	for ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		_, rel, err := l.Acquire(actx, "k", limit)
		cancel()
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		if now, r := time.Now().UnixNano(), restarted.Load(); r != 0 && now > r {
			first.CompareAndSwap(0, now)
		}
		time.Sleep(time.Millisecond) // the work the slot guards
		rel()
	}
}

// When Redis answers a call again after an outage, a renewal round runs
// at once, not a third of the Lease later: a slot whose member a restart
// lost ends within a round trip of that first answer.
func TestFirstAnswerAfterAnOutageRunsARoundAtOnce(t *testing.T) {
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.MaxRetries = -1
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = time.Second, time.Second, time.Second
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	errs := &errLog{}
	l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, OnError: errs.add})
	t.Cleanup(func() { closeWithin(t, l, waitAfter(10*time.Second)) })
	ctx := ctxWithTimeout(t)
	sctx, rel := mustTry(t, l, ctx, "k", 1)
	defer rel()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.TryAcquire(ctx, "other", 1); err == nil {
		t.Fatal("TryAcquire with Redis stopped succeeded")
	}
	if err := srv.Restart(); err != nil { // it forgets every slot
		t.Fatal(err)
	}
	relOther := func() {}
	defer func() { relOther() }()
	eventually(t, "a call answered once Redis is back", func() bool {
		_, rel, err := l.TryAcquire(ctx, "other", 1)
		if err == nil {
			relOther = rel
		}
		return err == nil
	})
	recv(t, sctx.Done(), waitAtOnce, fmt.Sprintf("the slot a restart lost did not end; the next regular round is %v away", redisslot.RenewEvery(l)))
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Errorf("slot context cause = %v; want ErrLeaseLost", got)
	}
}
