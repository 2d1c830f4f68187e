package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// The fault suite: real redis-server processes stalled, paused, flushed,
// killed and restarted under a Limiter holding slots, with a client whose
// timeouts (300ms, no retries) are far shorter than the faults. After each
// fault ends, InUse must equal the live holders within Lease/2, the limit
// must hold, the Limiter's goroutines must be gone once nothing is held,
// and OnError must have heard a bounded number of reports.

const (
	faultLease   = 1500 * time.Millisecond // renewals every 500ms
	faultTimeout = 300 * time.Millisecond  // the client's timeouts
	faultStall   = 800 * time.Millisecond  // longer than the client's timeouts
	faultLimit   = 3
	faultKey     = "k"
)

// faultEnv is one Limiter on its own server, holding slots of faultKey.
type faultEnv struct {
	srv  *redistest.Server
	raw  *redis.Client // for the test's own commands, with long timeouts
	l    *redisslot.Limiter
	gate *commandGate // on l's client
	errs *errLog

	mu      sync.Mutex
	holders []holder
}

// A holder is a slot the test holds: live while its context is not done.
type holder struct {
	ctx context.Context
	rel func()
}

func newFaultEnv(t *testing.T, args ...string) (*faultEnv, []goleak.Option) {
	t.Helper()
	srv := redistest.StartWith(t, args...)
	e := &faultEnv{srv: srv, raw: srv.Client(t), errs: &errLog{}}
	client := redis.NewClient(&redis.Options{
		Addr:                  srv.Addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           faultTimeout,
		ReadTimeout:           faultTimeout,
		WriteTimeout:          faultTimeout,
		PoolTimeout:           faultTimeout,
		MaxRetries:            -1,
	})
	t.Cleanup(func() { _ = client.Close() })
	e.gate = gateCommands(client)
	for _, c := range []*redis.Client{e.raw, client} { // let them start what they start lazily
		if err := c.Ping(ctxWithTimeout(t)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	before := []goleak.Option{goleak.IgnoreCurrent()}
	e.l = redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: faultLease, OnError: e.errs.add})
	t.Cleanup(func() { _ = e.l.Close() })
	for range 2 {
		e.take(t)
	}
	return e, before
}

// take takes one more slot of faultKey and keeps it.
func (e *faultEnv) take(t *testing.T) {
	t.Helper()
	sctx, rel := mustTry(t, e.l, ctxWithTimeout(t), faultKey, faultLimit)
	e.mu.Lock()
	e.holders = append(e.holders, holder{sctx, rel})
	e.mu.Unlock()
}

// live counts the held slots whose context is not done.
func (e *faultEnv) live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, h := range e.holders {
		if h.ctx.Err() == nil {
			n++
		}
	}
	return n
}

// releaseOne releases the first live slot, and checks that the release
// returns without waiting for Redis.
func (e *faultEnv) releaseOne(t *testing.T) {
	t.Helper()
	e.mu.Lock()
	var rel func()
	for _, h := range e.holders {
		if h.ctx.Err() == nil {
			rel = h.rel
			break
		}
	}
	e.mu.Unlock()
	if rel == nil {
		t.Fatal("no live slot to release")
	}
	releaseReturnsAtOnce(t, e.gate, rel, "in trouble")
}

// failedTry makes a TryAcquire that must fail within its short ctx, while
// its script is on its way to a stalled Redis.
func (e *faultEnv) failedTry(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultTimeout)
	defer cancel()
	_, _, err := e.l.TryAcquire(ctx, faultKey, faultLimit)
	if err == nil || errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire with Redis stalled: %v; want a timeout", err)
	}
}

// pid returns the server's pid.
func (e *faultEnv) pid(t *testing.T) int {
	t.Helper()
	pid := e.srv.Pid()
	if pid == 0 {
		t.Fatal("redis-server is not running")
	}
	return pid
}

// stopped runs during with the server stopped by SIGSTOP, for at least
// faultStall, and returns when it resumed.
func (e *faultEnv) stopped(t *testing.T, during func()) time.Time {
	t.Helper()
	pid := e.pid(t)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resumed := sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	defer resumed()
	during()
	time.Sleep(time.Until(start.Add(faultStall))) // the fault's length, not a wait for a condition
	resumed()
	return time.Now()
}

// A faultCase injects one fault, does what its name says while it lasts,
// and returns when the fault ended.
type faultCase struct {
	name  string
	args  []string // more redis-server arguments
	fault func(t *testing.T, e *faultEnv) time.Time
}

var faultCases = []faultCase{
	{name: "SIGSTOP with an acquire in flight", fault: func(t *testing.T, e *faultEnv) time.Time {
		return e.stopped(t, func() { e.failedTry(t) })
	}},
	{name: "SIGSTOP with a release in flight", fault: func(t *testing.T, e *faultEnv) time.Time {
		return e.stopped(t, func() { e.releaseOne(t) })
	}},
	{name: "SIGSTOP with renewals in flight", fault: func(t *testing.T, e *faultEnv) time.Time {
		return e.stopped(t, func() { time.Sleep(redisslot.RenewEvery(e.l)) }) // a round starts meanwhile
	}},
	{name: "DEBUG SLEEP", args: []string{"--enable-debug-command", "local"}, fault: func(t *testing.T, e *faultEnv) time.Time {
		slept := make(chan error, 1)
		go func() {
			slept <- e.raw.Do(context.Background(), "DEBUG", "SLEEP", faultStall.Seconds()).Err()
		}()
		eventually(t, "Redis is asleep", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			return e.raw.Ping(ctx).Err() != nil
		})
		e.failedTry(t)
		e.releaseOne(t)
		if err := recv(t, slept, waitAfter(faultStall), "DEBUG SLEEP did not return"); err != nil {
			t.Fatalf("DEBUG SLEEP: %v", err)
		}
		return time.Now()
	}},
	{name: "CLIENT PAUSE", fault: func(t *testing.T, e *faultEnv) time.Time {
		if err := e.raw.ClientPause(context.Background(), faultStall).Err(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		e.failedTry(t)
		e.releaseOne(t)
		time.Sleep(time.Until(start.Add(faultStall))) // the fault's length
		return time.Now()
	}},
	{name: "SCRIPT FLUSH", fault: func(t *testing.T, e *faultEnv) time.Time {
		if err := e.raw.ScriptFlush(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		e.releaseOne(t)
		redisslot.RenewNow(e.l)
		return time.Now()
	}},
	{name: "CLIENT KILL of normal connections", fault: func(t *testing.T, e *faultEnv) time.Time {
		if err := e.raw.Do(context.Background(), "CLIENT", "KILL", "TYPE", "normal").Err(); err != nil {
			t.Fatal(err)
		}
		e.releaseOne(t)
		return time.Now()
	}},
	{name: "CLIENT KILL of pub/sub connections", fault: killPubSubUnderAWaiter},
	{name: "kill and restart", fault: func(t *testing.T, e *faultEnv) time.Time {
		if err := e.srv.Stop(); err != nil {
			t.Fatal(err)
		}
		e.releaseOne(t)
		if err := e.srv.Restart(); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}},
}

// killPubSubUnderAWaiter fills the key, queues a waiter, kills the pub/sub
// connections, and releases a slot: the waiter must still get it.
func killPubSubUnderAWaiter(t *testing.T, e *faultEnv) time.Time {
	e.take(t) // the key is full
	out := make(chan outcome, 1)
	ctx := ctxWithTimeout(t)
	go func() { // it reports on out only: t may have ended
		sctx, rel, err := e.l.Acquire(ctx, faultKey, faultLimit)
		if err == nil {
			e.mu.Lock()
			e.holders = append(e.holders, holder{sctx, rel})
			e.mu.Unlock()
		}
		out <- outcome{err: err}
	}()
	eventually(t, "the waiter is subscribed", func() bool {
		n, err := e.raw.PubSubNumSub(context.Background(), redisslot.WakeChannel(e.l, faultKey)).Result()
		return err == nil && n[redisslot.WakeChannel(e.l, faultKey)] == 1
	})
	if err := e.raw.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	e.releaseOne(t)
	if o := nextOutcome(t, out); o.err != nil {
		t.Errorf("Acquire after CLIENT KILL TYPE pubsub: %v", o.err)
	}
	return time.Now()
}

func TestFaults(t *testing.T) {
	for _, c := range faultCases {
		t.Run(c.name, func(t *testing.T) {
			e, before := newFaultEnv(t, c.args...)
			start := time.Now()
			ended := c.fault(t, e)
			e.checkAfterFault(t, ended)
			e.checkReportsBounded(t, time.Since(start))
			e.checkNothingLeftBehind(t, before)
		})
	}
}

// checkAfterFault checks that InUse equals the live holders within Lease/2
// of the fault's end, and that the key then admits as many more as its
// limit allows, and no more.
func (e *faultEnv) checkAfterFault(t *testing.T, ended time.Time) {
	t.Helper()
	deadline := ended.Add(faultLease / 2)
	var n, live int
	for {
		var err error
		live = e.live()
		n, err = e.l.InUse(context.Background(), faultKey)
		if err == nil && n == live {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("InUse = %d (%v), live holders %d, %v after the fault ended; want them equal within Lease/2 %v",
				n, err, live, time.Since(ended), faultLease/2)
		}
		time.Sleep(pollInterval)
	}
	admitted := 0
	for {
		sctx, rel, err := e.l.TryAcquire(ctxWithTimeout(t), faultKey, faultLimit)
		if errors.Is(err, redisslot.ErrFull) {
			break
		}
		if err != nil {
			t.Fatalf("TryAcquire after the fault: %v", err)
		}
		admitted++
		e.mu.Lock()
		e.holders = append(e.holders, holder{sctx, rel})
		e.mu.Unlock()
		if admitted > faultLimit {
			break
		}
	}
	// A lease that ended meanwhile (a loaded machine's renewals, held up
	// by the fault) lets one more in: what must hold is that no fewer are
	// admitted than the live holders leave room for (no ghost), and that
	// no more than the limit are live once the key is full.
	if now := e.live(); admitted < faultLimit-live || now > faultLimit {
		t.Errorf("after the fault %d live holders, %d admitted, then %d live; want %d admitted and %d live, or a lease that ended meanwhile",
			live, admitted, now, faultLimit-live, faultLimit)
	}
}

// checkReportsBounded checks that OnError heard at most one report per
// key (one here) and one for the pub/sub connection per renewal round, and
// one more round for the last.
func (e *faultEnv) checkReportsBounded(t *testing.T, took time.Duration) {
	t.Helper()
	rounds := int(took/redisslot.RenewEvery(e.l)) + 2
	if errs := e.errs.all(); len(errs) > 2*rounds {
		t.Errorf("OnError got %d reports in %v (%d rounds); want at most two a round, the key's and pub/sub's: %v", len(errs), took, rounds, errs)
	}
}

// checkNothingLeftBehind releases every slot and checks that the key
// empties, and that once the Limiter is closed no goroutine started since
// it was made is left.
func (e *faultEnv) checkNothingLeftBehind(t *testing.T, before []goleak.Option) {
	t.Helper()
	e.mu.Lock()
	for _, h := range e.holders {
		h.rel()
	}
	e.mu.Unlock()
	eventually(t, "the key empties", func() bool { return inUse(t, e.l, faultKey) == 0 })
	if err := e.l.Close(); err != nil {
		t.Errorf("Close after the fault: %v", err)
	}
	if err := goleak.Find(before...); err != nil {
		t.Errorf("goroutines left behind: %v", err)
	}
}

// An acquire that Redis refused out of memory never ran: it leaves no
// free to send and no tombstone, however many rounds follow.
func TestAcquireRefusedOutOfMemoryLeavesNoFreeBehind(t *testing.T) {
	srv := redistest.StartWith(t, "--maxmemory-policy", "noeviction")
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	var frees atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		frees.Add(1)
		return next()
	}})
	ctx := ctxWithTimeout(t)
	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	_, rel, err := f.l.TryAcquire(ctx, "k", 1)
	if rel != nil {
		rel()
	}
	if !redis.HasErrorPrefix(errors.Unwrap(err), "OOM") {
		t.Fatalf("TryAcquire out of memory: %v; want Redis's OOM error, wrapped", err)
	}
	redisslot.RenewNow(f.l)
	if n := frees.Load(); n != 0 {
		t.Errorf("%d free calls after an acquire refused out of memory; want none: it never ran", n)
	}
	if n := raw.Exists(ctx, redisslot.TombstoneKey(f.l, "k")).Val(); n != 0 {
		t.Errorf("a tombstone set exists after an acquire refused out of memory; want none")
	}
}

// Out of memory (maxmemory with noeviction): new slots are refused with
// Redis's OOM error, even by an acquire that carries a pending free; held
// slots are renewed: the renewal's reply loses no member, and the held
// slot's score rises; frees and InUse work.
func TestOutOfMemoryRefusesNewSlotsAndKeepsTheHeldOnes(t *testing.T) {
	srv := redistest.StartWith(t, "--maxmemory-policy", "noeviction")
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // no lease ends during the test
	// Past the round the canary's first confirmation may ask, which would
	// carry the blocked free behind the held slot's renewal, past the hook.
	warmUp(t, f.l)
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	renewals := recordRenewals(f.client)
	blocked, unblocked := make(chan struct{}, 1), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(unblocked) })
	t.Cleanup(unblock)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		select {
		case blocked <- struct{}{}:
		default:
		}
		<-unblocked // the free waits, so the next acquire carries it
		return next()
	}})
	held, heldRel := mustTry(t, f.l, ctx, "k", 2)
	abandon(heldRel) // the slot stays held for the test; Close frees it
	_, rel := mustTry(t, f.l, ctx, "k", 2)
	rkey := testPrefix(t) + "{k}"
	before := members(t, raw, rkey)
	if len(before) != 2 {
		t.Fatalf("members %v after two acquires; want 2", before)
	}
	// A score is Redis's time in ms plus the Lease: once Redis's clock has
	// passed the later acquire's millisecond, a renewal raises its score.
	acquiredMs := before[1].Score - float64(longLease.Milliseconds())
	eventually(t, "Redis's clock passes the acquires' millisecond", func() bool { return redisNowMs(t, raw) >= acquiredMs+1 })

	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	rel()
	recv(t, blocked, waitAtOnce, "the release sent no free")
	_, _, err := f.l.TryAcquire(ctx, "k", 2)
	if err == nil || errors.Is(err, redisslot.ErrFull) || !redis.HasErrorPrefix(errors.Unwrap(err), "OOM") {
		t.Errorf("TryAcquire out of memory, carrying a pending free: %v; want Redis's OOM error, wrapped", err)
	}
	renewals.reset()
	redisslot.RenewNow(f.l)
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("renewal out of memory: OnError got %v; want nothing", errs)
	}
	if got := renewals.all(); len(got) == 0 {
		t.Errorf("a renewal round out of memory ran no renew script")
	} else {
		for _, r := range got {
			if r.err != nil || len(r.lost) > 0 {
				t.Errorf("renew script out of memory: error %v, lost members %v; want its members renewed", r.err, r.lost)
			}
		}
	}
	// The held slot's score rose; the released one, whose free waits, is
	// not renewed.
	after := members(t, raw, rkey)
	if len(after) != 2 || after[1].Score <= before[1].Score {
		t.Errorf("members before renewal %v, after %v; want the held one renewed", before, after)
	}
	unblock()
	eventually(t, "the free goes through out of memory", func() bool { return inUse(t, f.l, "k") == 1 })
	if held.Err() != nil {
		t.Errorf("held slot lost out of memory: %v", context.Cause(held))
	}
}

// Out of memory, a waiting Acquire ends at its next try with Redis's OOM
// error (no slot can be admitted then), and its place in line goes: the
// free of its entry works out of memory. Load keeps working, and the held
// slot stays held.
func TestOutOfMemoryEndsWaitsWithRedisErrorAndEmptiesTheLine(t *testing.T) {
	srv := redistest.StartWith(t, "--maxmemory-policy", "noeviction")
	h, w := newFixture(t, srv, redisslot.Options{Lease: longLease}), newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	held, rel := mustTry(t, h.l, ctx, "k", 1)
	defer rel()
	out := make(chan outcome, 1)
	joinQueue(t, w.l, ctx, "k", 1, 0, out)
	order, _ := redisslot.QueueKeys(w.l, "k")

	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	loads, err := w.l.Load(ctx, "k")
	if err != nil || loads[0].InUse != 1 {
		t.Errorf("Load out of memory: %v, %v; want InUse 1", loads, err)
	}
	o := nextOutcome(t, out)
	if o.err == nil || errors.Is(o.err, redisslot.ErrFull) || !redis.HasErrorPrefix(errors.Unwrap(o.err), "OOM") {
		t.Fatalf("waiting Acquire out of memory: %v; want Redis's OOM error, wrapped", o.err)
	}
	eventually(t, "the waiter's entry freed out of memory", func() bool { return raw.ZCard(ctx, order).Val() == 0 })
	if held.Err() != nil {
		t.Errorf("held slot lost out of memory: %v", context.Cause(held))
	}
	if errs := w.errs.all(); len(errs) > 0 {
		t.Errorf("out of memory: OnError got %v; want nothing (the error went to the caller)", errs)
	}
}

// renewReply is the outcome of one run of the renew script: its error, or
// the members it could not extend.
type renewReply struct {
	err  error
	lost []any
}

// renewReplies records the replies of the renew script calls a client
// sends.
type renewReplies struct {
	mu      sync.Mutex
	replies []renewReply
}

// recordRenewals records the renew script's replies on c.
func recordRenewals(c *redis.Client) *renewReplies {
	r := &renewReplies{}
	c.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, cmd := range cmds {
			// A round of several calls sends wrappers of *redis.Cmd.
			c, ok := cmd.(interface{ Slice() ([]any, error) })
			if !ok || scriptOf(cmd) != redisslot.RenewHash {
				continue
			}
			// A command sent alone gets its error only after the hooks:
			// next returned it.
			reply := renewReply{err: cmd.Err()}
			if reply.err == nil && len(cmds) == 1 {
				reply.err = err
			}
			if reply.err == nil {
				reply.lost, reply.err = c.Slice()
			}
			r.replies = append(r.replies, reply)
		}
		return err
	}})
	return r
}

func (r *renewReplies) reset() {
	r.mu.Lock()
	r.replies = nil
	r.mu.Unlock()
}

func (r *renewReplies) all() []renewReply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]renewReply(nil), r.replies...)
}

func setMaxmemory(t *testing.T, c *redis.Client, v string) {
	t.Helper()
	if err := c.ConfigSet(context.Background(), "maxmemory", v).Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory %s: %v", v, err)
	}
}

// A key that is no slot set any more, overwritten (WRONGTYPE) or deleted,
// is a lost lease at the next renewal round, not when the local Lease runs
// out.
func TestKeyOverwrittenOrDeletedIsLostAtTheNextRound(t *testing.T) {
	for _, c := range []struct {
		name string
		do   func(c *redis.Client, rkey string) error
	}{
		{"SET", func(c *redis.Client, rkey string) error { return c.Set(context.Background(), rkey, "x", 0).Err() }},
		{"DEL", func(c *redis.Client, rkey string) error { return c.Del(context.Background(), rkey).Err() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Shared(t)
			f := newFixture(t, srv, redisslot.Options{Lease: 3 * time.Second})
			sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
			defer rel()
			if err := c.do(srv.Client(t), testPrefix(t)+"{k}"); err != nil {
				t.Fatal(err)
			}
			recv(t, sctx.Done(), waitAfter(redisslot.RenewEvery(f.l)), fmt.Sprintf("slot not lost after %s of its key", c.name))
			if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
				t.Errorf("cause %v; want ErrLeaseLost", got)
			}
			eventually(t, "OnError hears of the lost lease", func() bool { return f.errs.has(redisslot.ErrLeaseLost) })
			for _, err := range f.errs.all() {
				if !strings.Contains(err.Error(), "gone from Redis") {
					t.Errorf("OnError got %q; want the slot reported gone at a renewal round, not timed out", err)
				}
			}
		})
	}
}
