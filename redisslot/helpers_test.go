package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
	pollInterval = 5 * time.Millisecond

	// waitAtOnce bounds every wait for what, when the code is right,
	// happens at once: a reply, a wake-up, a hand-off, a goroutine's end.
	// It is far above their milliseconds on a loaded machine under -race,
	// and short enough that a test of broken code fails quickly.
	waitAtOnce = 10 * time.Second
	// waitLong bounds the waits that legitimately take long: a Redis stall,
	// restart or partition of several Leases. It is also the life of
	// ctxWithTimeout's context, which holds a test's slots.
	waitLong = 30 * time.Second
)

// waitAfter bounds a wait for what takes d when the code is right (a lease
// that ends, renewal rounds, a retry interval): d, and then waitAtOnce.
func waitAfter(d time.Duration) time.Duration { return d + waitAtOnce }

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
	ctx, cancel := context.WithTimeout(context.Background(), waitAtOnce)
	defer cancel()
	if err := redisslot.LoadScripts(ctx, f.client); err != nil {
		t.Fatalf("SCRIPT LOAD: %v", err)
	}
	f.l = redisslot.New(f.client, opts)
	closeBound := opts.ReleaseTimeout
	if closeBound == 0 {
		closeBound = 5 * time.Second // the default
	}
	// Close frees what is held in at most two calls, each bounded by
	// ReleaseTimeout.
	t.Cleanup(func() { closeWithin(t, f.l, waitAfter(2*closeBound)) })
	return f
}

// closeWithin closes l, failing t if Close does not return within bound: a
// Close that hangs fails the test that made l, not the whole run.
func closeWithin(t testing.TB, l *redisslot.Limiter, bound time.Duration) {
	t.Helper()
	closed := make(chan struct{})
	go func() {
		_ = l.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(bound):
		t.Errorf("Close did not return within %v", bound)
	}
}

// pair is the preamble of a test of two instances: the shared server, and
// two Limiters made with opts, each with its own client, sharing the
// test's keys (opts.Prefix, when empty, is the test's).
func pair(t testing.TB, opts redisslot.Options) (*redistest.Server, *fixture, *fixture) {
	t.Helper()
	srv := redistest.Shared(t)
	return srv, newFixture(t, srv, opts), newFixture(t, srv, opts)
}

var (
	prefixes   sync.Map // testing.TB to its prefix
	prefixRuns atomic.Int64
)

// testPrefix keeps the keys of each test apart on the shared server, and
// apart from those of earlier runs of the same test (go test -count, -cpu):
// the same within a test, new for each run.
func testPrefix(t testing.TB) string {
	p, _ := prefixes.LoadOrStore(t, fmt.Sprintf("test:%s:%d:", strings.ReplaceAll(t.Name(), "/", ":"), prefixRuns.Add(1)))
	return p.(string)
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

// eventually polls cond, which should hold at once, until it holds,
// failing t after waitAtOnce.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, waitAtOnce, what, cond)
}

// eventuallyWithin polls cond until it holds, failing t after bound.
func eventuallyWithin(t testing.TB, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", bound, what)
		}
		time.Sleep(pollInterval)
	}
}

// warmUp has l take its first slot, which starts its subscriber and
// subscribes it to the restart canary, waits until the canary's first
// confirmation has been looked into (on a Redis Cluster, by a round), then
// releases the slot and waits until its free is confirmed: a test that
// counts what a Limiter sends or the goroutines it runs, or that must see
// no round before Lease/3, starts from then on. It adds one slot acquired
// to l's Stats, and on a Redis Cluster one renewal round.
func warmUp(t testing.TB, l *redisslot.Limiter) {
	t.Helper()
	rounds := l.Stats().RenewalRounds
	_, rel := mustTry(t, l, ctxWithTimeout(t), "warm-up", 1)
	eventually(t, "the restart canary's first confirmation looked into", func() bool {
		return redisslot.CanaryChecked(l) && (redisslot.OnOneNode(l) || l.Stats().RenewalRounds > rounds)
	})
	rel()
	eventually(t, "the warm-up slot's free is confirmed", func() bool {
		return redisslot.FreesInFlight(l) == 0 && l.Stats().PendingFrees == 0
	})
}

// quietFor watches for something that must not happen: it calls broken
// after each of periods sleeps of every, and fails t at the first report.
// The window is counted in sleeps, not read off the clock, so that it
// stretches with the machine's load as a Limiter's timers of the same
// period do: a Limiter that does the thing once a period does it within the
// window however slowly its goroutines run.
func quietFor(t testing.TB, periods int, every time.Duration, broken func() string) {
	t.Helper()
	for range periods {
		time.Sleep(every)
		if msg := broken(); msg != "" {
			t.Fatal(msg)
		}
	}
}

// ctxWithTimeout returns a context that ends with the test or after
// waitLong: the context of a test's calls and the parent of its slots. It
// bounds no wait: a call that waits gets a context of ctxWithin.
func ctxWithTimeout(t testing.TB) context.Context {
	return ctxWithin(t, waitLong)
}

// ctxWithin returns a context that ends with the test or after d.
func ctxWithin(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// recv returns the next value from c, failing t with what did not happen
// after bound.
func recv[T any](t testing.TB, c <-chan T, bound time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(bound):
		t.Fatalf("after %v: %s", bound, what)
		var zero T
		return zero
	}
}

// waitAll waits for wg, failing t with what did not happen after bound.
func waitAll(t testing.TB, wg *sync.WaitGroup, bound time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	recv(t, done, bound, what)
}

// sendOrDrop sends v on c, or drops it if c is full: a hook that reports
// on c never blocks the Limiter's goroutine that runs it.
func sendOrDrop[T any](c chan<- T, v T) {
	select {
	case c <- v:
	default:
	}
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

// abandon takes a release that the test never calls, as a holder that
// crashed never does: the slot is freed by Close, or left to its lease.
func abandon(func()) {}

// holdAbandoned takes a slot with TryAcquire, failing t if it cannot, and
// abandons its release.
func holdAbandoned(t testing.TB, l *redisslot.Limiter, ctx context.Context, key string, limit int) {
	t.Helper()
	_, rel := mustTry(t, l, ctx, key, limit)
	abandon(rel)
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

// scriptOf returns the hash of the script cmd runs ("" if it runs none), so
// hooks can pick out, say, the release calls.
func scriptOf(cmd redis.Cmder) string {
	args := cmd.Args()
	if len(args) < 2 {
		return ""
	}
	switch cmd.Name() {
	case "evalsha":
		s, _ := args[1].(string)
		return s
	case "eval":
		src, _ := args[1].(string)
		return redis.NewScript(src).Hash()
	}
	return ""
}

// scriptHook is the one hook of these tests that counts, fails or blocks
// commands: it runs fn around every command (pipelined or not) that runs
// the script with the given hash, or around every command when any is set.
// fn calls next to send them, or does not.
type scriptHook struct {
	hash string
	any  bool // every command, whatever script it runs or none
	fn   func(ctx context.Context, cmds []redis.Cmder, next func() error) error
}

func (h scriptHook) matches(cmds []redis.Cmder) bool {
	return h.any || len(cmds) > 0 && scriptOf(cmds[0]) == h.hash
}

func (h scriptHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h scriptHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		cmds := []redis.Cmder{cmd}
		if !h.matches(cmds) {
			return next(ctx, cmd)
		}
		return h.fn(ctx, cmds, func() error { return next(ctx, cmd) })
	}
}

func (h scriptHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.matches(cmds) {
			return next(ctx, cmds)
		}
		return h.fn(ctx, cmds, func() error { return next(ctx, cmds) })
	}
}

// failWith makes cmds fail with err without sending them.
func failWith(cmds []redis.Cmder, err error) error {
	for _, c := range cmds {
		c.SetErr(err)
	}
	return err
}

// deadHook fails every command once dead is set, as if the process that
// owns the client had died: no command reaches Redis any more, but pub/sub
// (which no hook sees) still does, so its wake-ups still come in.
func deadHook(dead *atomic.Bool) scriptHook {
	return scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if dead.Load() {
			return failWith(cmds, errDead)
		}
		return next()
	}}
}

var errDead = errors.New("test: instance is dead")

// redisNowMs returns Redis's clock in milliseconds.
func redisNowMs(t testing.TB, c *redis.Client) float64 {
	t.Helper()
	tm, err := c.Time(context.Background()).Result()
	if err != nil {
		t.Fatalf("TIME: %v", err)
	}
	return float64(tm.UnixMicro()) / 1000
}

// scriptArg is the index in a script command's Args of its first ARGV: it
// follows the command name, the script, the key count and the four keys
// (the slot set, the queue's two sets and the tombstones).
const scriptArg = 7

// admittedBy reports whether cmd, a run of the acquire script, admitted its
// member: its reply is {1, 0, 0}.
func admittedBy(cmd redis.Cmder) bool {
	r, err := int64Reply(cmd)
	return err == nil && len(r) == 3 && r[0] == 1
}

// int64Reply returns the reply of cmd, a script call: a *redis.Cmd or, for
// the scripts that add members, the Limiter's type that embeds one.
func int64Reply(cmd redis.Cmder) ([]int64, error) {
	c, ok := cmd.(interface{ Int64Slice() ([]int64, error) })
	if !ok {
		return nil, fmt.Errorf("%T is no script call", cmd)
	}
	return c.Int64Slice()
}

// waitingAcquire starts an Acquire of key on l that releases at once any
// slot it gets, and returns, once l counts it waiting, the channel on which
// it sends Acquire's error.
func waitingAcquire(t *testing.T, ctx context.Context, l *redisslot.Limiter, key string, limit int) <-chan error {
	t.Helper()
	result := make(chan error, 1)
	go func() {
		_, rel, err := l.Acquire(ctx, key, limit)
		if rel != nil {
			rel()
		}
		result <- err
	}()
	eventually(t, "the Acquire waits", func() bool { return l.Stats().Waiting == 1 })
	return result
}

// holdFirstAnswer returns a hook that, once it has read the answer to the
// first acquire call naming the slot set slotSet() returns, holds it from
// its caller: answered is closed then, and the answer goes on at let, or
// when the call's ctx ends. A cleanup of t runs let too; a test that fails
// while the answer is held has a Limiter's Close wait for that call, so it
// registers let again after that Close (Close runs after it).
// slotSet is read at each call.
func holdFirstAnswer(t testing.TB, slotSet func() string) (hook scriptHook, answered <-chan struct{}, let func()) {
	heard, release := make(chan struct{}), make(chan struct{})
	let = sync.OnceFunc(func() { close(release) })
	t.Cleanup(let)
	var once sync.Once
	hook = scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cmds[0].Args()[3] != slotSet() {
			return next()
		}
		err := next()
		once.Do(func() {
			close(heard)
			select {
			case <-release:
			case <-ctx.Done():
			}
		})
		return err
	}}
	return hook, heard, let
}

// A callGate lets a hook's calls through until it is shut, and then tells
// when none that it let through is still on its way: once shut returns, no
// such call runs in Redis. A call that finds it shut is held's to handle.
type callGate struct {
	shutting atomic.Bool
	passing  atomic.Int64 // calls let through and not yet answered
}

// pass sends the call by next, unless the gate is shut: then held handles it.
func (g *callGate) pass(next, held func() error) error {
	g.passing.Add(1)
	if g.shutting.Load() {
		g.passing.Add(-1)
		return held()
	}
	defer g.passing.Add(-1)
	return next()
}

// shut shuts the gate and waits until no call it let through is on its way.
func (g *callGate) shut(t testing.TB) {
	t.Helper()
	g.shutting.Store(true)
	eventually(t, "no call let through before the gate shut is on its way", func() bool { return g.passing.Load() == 0 })
}

// open lets the calls through again, from the next one on.
func (g *callGate) open() { g.shutting.Store(false) }
