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
	"github.com/ctxguard/release/slots"
	"github.com/redis/go-redis/v9"
)

// The fallback tests: Redis becomes unreachable while Limiters with
// Options.Fallback serve callers, and comes back.
const (
	fbLease   = 3 * time.Second
	fbLimit   = 4
	fbShare   = fbLimit / 2
	fbTimeout = 200 * time.Millisecond // the clients' timeouts, far below the outages
)

// fbLimiter returns a Limiter on srv (through addr, when not empty) with a
// fallback share of fbShare, a client that gives up within fbTimeout, and
// its reports in errs.
func fbLimiter(t *testing.T, srv *redistest.Server, addr string, errs *errLog, hooks ...redis.Hook) *redisslot.Limiter {
	t.Helper()
	l := redisslot.New(fbClient(t, srv, addr, hooks...), redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: errs.add,
		Fallback: func(string, int) int { return fbShare },
	})
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// fbClient returns a client of srv (through addr, when not empty), with
// hooks, that gives up within fbTimeout and does not retry.
func fbClient(t *testing.T, srv *redistest.Server, addr string, hooks ...redis.Hook) *redis.Client {
	t.Helper()
	opts := srv.Options()
	if addr != "" {
		opts.Addr = addr
	}
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	for _, h := range hooks {
		c.AddHook(h)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// With Redis stopped, a Limiter serves its share of a key from the first
// call that meets the outage on: TryAcquire up to the share, then ErrFull;
// Acquire waits in a local line, in order. When Redis answers again, the
// first round writes the live fallback slots into Redis, the state ends,
// the line goes back to Redis, and OnError heard of the state's beginning
// and its end, once each.
func TestFallbackServesTheShareWhileRedisIsDown(t *testing.T) {
	srv := redistest.Start(t)
	errs := &errLog{}
	l := fbLimiter(t, srv, "", errs)
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	var rels []func()
	for i := range fbShare {
		_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire %d with Redis down: %v; want a slot from the share", i, err)
		}
		rels = append(rels, rel)
	}
	if st := l.Stats(); !st.Degraded || st.FallbackAcquired != fbShare {
		t.Errorf("Stats with Redis down: Degraded %v, FallbackAcquired %d; want true, %d", st.Degraded, st.FallbackAcquired, fbShare)
	}
	if _, _, err := l.TryAcquire(ctx, "k", fbLimit); !errors.Is(err, redisslot.ErrFull) || !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("TryAcquire beyond the share: %v; want ErrFull naming the key", err)
	}
	out := make(chan outcome, 2)
	for i := range 2 {
		queueFallback(t, l, ctx, i, out)
	}
	rels[0]()
	first := nextOutcome(t, out)
	if first.err != nil || first.who != 0 {
		t.Fatalf("the share's line served waiter %d (%v) first; want waiter 0", first.who, first.err)
	}
	rels[0] = first.rel

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fallback state ends once Redis answers", func() bool { return !l.Stats().Degraded })
	last := nextOutcome(t, out) // back to Redis, which has room beside the share's slots
	if last.err != nil {
		t.Fatalf("waiter 1, back to Redis: %v; want a slot", last.err)
	}
	rels = append(rels, last.rel)
	if n := inUse(t, l, "k"); n != fbShare+1 {
		t.Errorf("InUse after Redis came back = %d; want the %d live fallback slots and waiter 1's", n, fbShare)
	}
	for _, rel := range rels {
		rel()
	}
	eventually(t, "the fallback slots freed in Redis", func() bool { return inUse(t, l, "k") == 0 })
	checkFallbackReports(t, errs)
}

// A fallback slot counts in Stats as held and acquired. When Redis answers
// again it is written with its lease, and so is its slot set: the set
// expires within two leases, as one made by an acquire does, and is not
// left in Redis for good.
func TestFallbackSlotWrittenIntoRedisExpiresWithItsLease(t *testing.T) {
	srv := redistest.Start(t)
	errs := &errLog{}
	l := fbLimiter(t, srv, "", errs)
	ctx := ctxWithTimeout(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	_, rel, err := l.TryAcquire(ctx, "k", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire with Redis down: %v; want a slot from the share", err)
	}
	defer rel()
	if st := l.Stats(); st.Held != 1 || st.Acquired != 1 {
		t.Errorf("Stats after a fallback slot: Held %d, Acquired %d; want 1, 1", st.Held, st.Acquired)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the fallback state ends once Redis answers", func() bool { return !l.Stats().Degraded })
	raw := srv.Client(t)
	rkey := redisslot.SlotKey(l, "k")
	if n := raw.ZCard(ctx, rkey).Val(); n != 1 {
		t.Fatalf("ZCARD %s = %d after the fallback state ended; want the fallback slot", rkey, n)
	}
	if ttl := raw.PTTL(ctx, rkey).Val(); ttl <= 0 || ttl > 2*fbLease {
		t.Errorf("PTTL %s = %v after the fallback slot was written; want it to expire within two leases (0, %v]", rkey, ttl, 2*fbLease)
	}
}

// The fallback state ends only with a round that got all of its work
// through: while Redis answers the renewals with an error, the state
// stays on even after the fallback slots were written into Redis, and it
// ends with the first round whose renewals succeed.
func TestFallbackEndsOnlyWhenARoundGetsAllItsWorkThrough(t *testing.T) {
	srv := redistest.Shared(t)
	c := srv.Client(t)
	var cut, refuse atomic.Bool // no call reaches Redis; every renewal's reply is an error
	c.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cut.Load() {
			return failWith(cmds, errInjected)
		}
		err := next()
		for _, cmd := range cmds {
			if refuse.Load() && scriptOf(cmd) == redisslot.RenewHash {
				cmd.SetErr(errRenewRefused)
			}
		}
		return err
	}})
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: 10 * time.Second, OnError: (&errLog{}).add, // no lease ends during the test
		Fallback: func(string, int) int { return fbShare },
	})
	t.Cleanup(func() { closeWithin(t, l, waitAfter(10*time.Second)) })
	ctx := ctxWithTimeout(t)
	_, rel, err := l.TryAcquire(ctx, "held", fbLimit) // a slot to renew
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	cut.Store(true)
	_, relFb, err := l.TryAcquire(ctx, "k", fbLimit)
	if err != nil || !l.Stats().Degraded {
		t.Fatalf("TryAcquire with Redis cut off: %v, Degraded %v; want a slot from the share", err, l.Stats().Degraded)
	}
	defer relFb()
	refuse.Store(true)
	cut.Store(false)
	eventually(t, "the fallback slot written into Redis", func() bool { return redisslot.FallbackHeld(l, "k") == 0 })
	if !l.Stats().Degraded {
		t.Errorf("the fallback state ended in a round whose renewal Redis refused; want it on until a round gets all its work through")
	}
	refuse.Store(false)
	eventually(t, "the fallback state ends once a round gets through", func() bool { return !l.Stats().Degraded })
}

// errRenewRefused is an answer of Redis to a renewal, not an outage.
var errRenewRefused = errors.New("test: renewal refused")

// queueFallback runs Acquire on a goroutine and waits until it waits in
// the local line of the fallback share.
func queueFallback(t *testing.T, l *redisslot.Limiter, ctx context.Context, who int, out chan<- outcome) {
	t.Helper()
	before := l.Stats().Waiting
	wctx, cancel := context.WithTimeout(ctx, fbLease)
	t.Cleanup(cancel)
	go func() {
		_, rel, err := l.Acquire(wctx, "k", fbLimit)
		out <- outcome{who, time.Now(), rel, err}
	}()
	eventually(t, "the waiter waits for the share", func() bool { return l.Stats().Waiting == before+1 })
}

// checkFallbackReports checks that OnError heard once of the state's
// beginning and once of its end.
func checkFallbackReports(t *testing.T, errs *errLog) {
	t.Helper()
	begun, ended := 0, 0
	for _, err := range errs.all() {
		switch {
		case strings.Contains(err.Error(), "serving each key's fallback share"):
			begun++
		case strings.Contains(err.Error(), "the fallback shares are ended"):
			ended++
		}
	}
	if begun != 1 || ended != 1 {
		t.Errorf("OnError heard of the fallback state beginning %d times and ending %d times; want once each", begun, ended)
	}
}

// An answer of Redis is no outage: out of memory, a Limiter with a
// fallback returns Redis's error and stays out of the fallback state.
func TestFallbackIsNotForRedisAnswers(t *testing.T) {
	srv := redistest.StartWith(t, "--maxmemory-policy", "noeviction")
	errs := &errLog{}
	l := fbLimiter(t, srv, "", errs)
	raw := srv.Client(t)
	setMaxmemory(t, raw, "1")
	defer setMaxmemory(t, raw, "0")
	_, _, err := l.TryAcquire(ctxWithTimeout(t), "k", fbLimit)
	if err == nil || !redis.HasErrorPrefix(errors.Unwrap(err), "OOM") {
		t.Errorf("TryAcquire out of memory with a fallback: %v; want Redis's OOM error", err)
	}
	if l.Stats().Degraded {
		t.Errorf("out of memory: the fallback state began; want it off")
	}
}

// fbLedger follows the live slots of every Limiter of a test: each
// admission checks what the test promises at that moment.
type fbLedger struct {
	mu   sync.Mutex
	live map[*redisslot.Limiter][]context.Context
}

// add records a slot of l and returns the live slots of l and of all.
func (g *fbLedger) add(l *redisslot.Limiter, sctx context.Context) (mine, all int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live == nil {
		g.live = make(map[*redisslot.Limiter][]context.Context)
	}
	g.live[l] = append(g.live[l], sctx)
	for k, slots := range g.live {
		kept := slots[:0]
		for _, c := range slots {
			if c.Err() == nil {
				kept = append(kept, c)
			}
		}
		g.live[k] = kept
		all += len(kept)
	}
	return len(g.live[l]), all
}

// fbLoad runs callers on each Limiter: Acquire, waiting at most callBound,
// hold a few milliseconds, release; until ctx ends. Each slot is recorded
// in g, and check sees the live holders at its admission. It checks that
// no call waits past callBound by more than slack, and counts the slots
// served.
func fbLoad(t *testing.T, ctx context.Context, ls []*redisslot.Limiter, g *fbLedger, check func(l *redisslot.Limiter, mine, all int)) (served *atomic.Int64, wait func()) {
	served = &atomic.Int64{}
	var wg sync.WaitGroup
	const callBound, slack = 300 * time.Millisecond, 2 * time.Second
	for _, l := range ls {
		for range 2 * fbLimit {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					start := time.Now()
					sctx, rel, err := slots.AcquireWithin(ctx, l, "k", fbLimit, callBound)
					if d := time.Since(start); d > callBound+slack {
						t.Errorf("Acquire took %v (%v); want it ended within its wait, %v", d, err, callBound)
					}
					if err != nil {
						time.Sleep(5 * time.Millisecond) // the time a refused caller takes to come back
						continue
					}
					mine, all := g.add(l, sctx)
					check(l, mine, all)
					served.Add(1)
					time.Sleep(2 * time.Millisecond) // the work the slot guards
					rel()
				}
			}()
		}
	}
	return served, wg.Wait
}

// Two Limiters, each with a share of half the limit, under load while
// Redis is killed and restarted empty after an outage (and, separately,
// stopped with SIGSTOP): requests are served during the outage, no
// Limiter holds more than its share of fallback slots, no caller waits
// past its ctx, and within a round of Redis answering, InUse is the live
// holders, fallback ones included.
func TestFallbackUnderLoadThroughAnOutage(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	for _, c := range []struct {
		name   string
		outage time.Duration
		cut    func(t *testing.T, srv *redistest.Server) (resume func())
	}{
		{"killed and restarted empty", 5 * time.Second, func(t *testing.T, srv *redistest.Server) func() {
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := srv.Restart(); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"SIGSTOP", 2 * time.Second, func(t *testing.T, srv *redistest.Server) func() {
			pid := srv.Pid()
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			resume := sync.OnceFunc(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
			t.Cleanup(resume)
			return resume
		}},
	} {
		t.Run(c.name, func(t *testing.T) { fallbackOutage(t, c.outage, c.cut) })
	}
}

func fallbackOutage(t *testing.T, outage time.Duration, cut func(*testing.T, *redistest.Server) func()) {
	srv := redistest.Start(t)
	ls := []*redisslot.Limiter{fbLimiter(t, srv, "", &errLog{}), fbLimiter(t, srv, "", &errLog{})}
	var tooMany atomic.Value
	check := func(l *redisslot.Limiter, mine, all int) {
		if n := redisslot.FallbackHeld(l, "k"); n > fbShare {
			tooMany.Store(fmt.Sprintf("a Limiter held %d fallback slots; want at most its share, %d", n, fbShare))
		}
	}
	ctx := ctxWithTimeout(t)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	served, wait := fbLoad(t, loadCtx, ls, &fbLedger{}, check)
	eventually(t, "load on Redis", func() bool { return served.Load() > 20 })
	resume := cut(t, srv)
	cutAt, before := time.Now(), served.Load()
	eventually(t, "both Limiters serve their shares", func() bool { return ls[0].Stats().Degraded && ls[1].Stats().Degraded })
	for _, l := range ls { // one long holder each, from the share, kept through the return
		_, rel, err := l.Acquire(ctx, "k", fbLimit)
		if err != nil {
			t.Fatalf("Acquire of a long holder during the outage: %v", err)
		}
		defer rel()
	}
	time.Sleep(time.Until(cutAt.Add(outage))) // the outage's length, not a wait for a condition
	stopLoad()
	wait()
	during := served.Load() - before
	if during == 0 {
		t.Errorf("no request served during the %v outage; want the fallback shares to serve", outage)
	}
	if s, ok := tooMany.Load().(string); ok {
		t.Error(s)
	}
	resume()
	back := time.Now()
	eventually(t, "both Limiters leave the fallback state", func() bool { return !ls[0].Stats().Degraded && !ls[1].Stats().Degraded })
	took := time.Since(back)
	if bound := fbLease/3 + time.Second; took > bound {
		t.Errorf("the fallback state ended %v after Redis came back; want within a round, %v", took, bound)
	}
	if n := inUse(t, ls[0], "k"); n != len(ls) {
		t.Errorf("InUse once the state ended = %d; want the %d long holders from the shares", n, len(ls))
	}
	admitted := 0
	for range fbLimit {
		_, rel, err := ls[admitted%2].TryAcquire(ctx, "k", fbLimit)
		if err != nil {
			break
		}
		defer rel()
		admitted++
	}
	if admitted != fbLimit-len(ls) {
		t.Errorf("after the outage Redis admitted %d more; want %d: the limit counts the fallback slots", admitted, fbLimit-len(ls))
	}
	t.Logf("served %d requests during the %v outage; the state ended %v after Redis came back", during, outage, took)
}

// One Limiter cut off from Redis serves its share while another goes on
// with Redis: at every admission, the live holders of the key across both
// are at most the limit plus the cut-off Limiter's share.
func TestFallbackOfACutOffLimiterKeepsTheClusterWithinLimitAndShare(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	cutOff, other := fbLimiter(t, srv, p.Addr, &errLog{}), fbLimiter(t, srv, "", &errLog{})
	var over atomic.Value
	check := func(l *redisslot.Limiter, mine, all int) {
		if all > fbLimit+fbShare {
			over.Store(fmt.Sprintf("%d live holders across the two Limiters; want at most the limit and one share, %d", all, fbLimit+fbShare))
		}
	}
	ctx, stop := context.WithCancel(ctxWithTimeout(t))
	defer stop()
	served, wait := fbLoad(t, ctx, []*redisslot.Limiter{cutOff, other}, &fbLedger{}, check)
	eventually(t, "load on Redis", func() bool { return served.Load() > 20 })
	p.Freeze()
	eventually(t, "the cut-off Limiter serves its share", func() bool { return cutOff.Stats().Degraded })
	fallbackBefore := cutOff.Stats().FallbackAcquired
	time.Sleep(fbLease) // the cut's length, not a wait for a condition
	if other.Stats().Degraded {
		t.Errorf("the Limiter that reaches Redis went to its fallback share")
	}
	if cutOff.Stats().FallbackAcquired == fallbackBefore {
		t.Errorf("the cut-off Limiter served nothing from its share")
	}
	p.Thaw()
	eventually(t, "the cut-off Limiter leaves its share", func() bool { return !cutOff.Stats().Degraded })
	stop()
	wait()
	if s, ok := over.Load().(string); ok {
		t.Error(s)
	}
}
