package redisslot_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// recorder is a Hook that keeps every event it hears, and counts the
// events heard while a lock of the Limiter was held.
type recorder struct {
	l        *redisslot.Limiter
	locked   atomic.Int64
	mu       sync.Mutex
	acquires []redisslot.AcquireEvent
	ends     []redisslot.SlotEvent
	lost     []redisslot.LeaseLostEvent
	joined   []string
	left     []string
	rounds   []redisslot.RenewalEvent
}

func (r *recorder) hook() redisslot.Hook {
	lock := func(f func()) {
		if !redisslot.LocksFree(r.l) {
			r.locked.Add(1)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		f()
	}
	return redisslot.Hook{
		AcquireEnded: func(e redisslot.AcquireEvent) { lock(func() { r.acquires = append(r.acquires, e) }) },
		SlotEnded:    func(e redisslot.SlotEvent) { lock(func() { r.ends = append(r.ends, e) }) },
		LeaseLost:    func(e redisslot.LeaseLostEvent) { lock(func() { r.lost = append(r.lost, e) }) },
		WaiterJoined: func(k string) { lock(func() { r.joined = append(r.joined, k) }) },
		WaiterLeft:   func(k string) { lock(func() { r.left = append(r.left, k) }) },
		RenewalRound: func(e redisslot.RenewalEvent) { lock(func() { r.rounds = append(r.rounds, e) }) },
	}
}

// results returns the results of the acquire events, in order.
func (r *recorder) results() []redisslot.AcquireResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []redisslot.AcquireResult
	for _, e := range r.acquires {
		out = append(out, e.Result)
	}
	return out
}

// endsOf returns the end events of key.
func (r *recorder) endsOf(key string) []redisslot.SlotEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []redisslot.SlotEvent
	for _, e := range r.ends {
		if e.Key == key {
			out = append(out, e)
		}
	}
	return out
}

func newRecorded(t *testing.T, opts redisslot.Options) (*fixture, *recorder) {
	t.Helper()
	f := newFixture(t, redistest.Shared(t), opts)
	r := &recorder{l: f.l}
	f.l.AddHook(r.hook())
	t.Cleanup(func() {
		if n := r.locked.Load(); n > 0 {
			t.Errorf("%d hook calls made with a lock of the Limiter held; want none", n)
		}
	})
	return f, r
}

// One AcquireEnded per call, with the result the call returned, and the
// Stats counters to match.
func TestHookHearsOneResultPerCall(t *testing.T) {
	f, r := newRecorded(t, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	eventually(t, "the restart canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(f.l) })
	if _, _, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire of a full key: %v; want ErrFull", err)
	}
	if _, _, err := f.l.TryAcquire(ctx, "k", 0); err == nil {
		t.Fatal("TryAcquire with limit 0 succeeded")
	}
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := f.l.Acquire(wctx, "k", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with a short deadline: %v; want DeadlineExceeded", err)
	}
	waited := time.Since(start)
	rel()
	if err := f.l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.l.TryAcquire(ctx, "k", 1); !errors.Is(err, redisslot.ErrClosed) {
		t.Fatalf("TryAcquire after Close: %v; want ErrClosed", err)
	}

	want := []redisslot.AcquireResult{redisslot.AcquireAcquired, redisslot.AcquireFull,
		redisslot.AcquireError, redisslot.AcquireCanceled, redisslot.AcquireClosed}
	if got := r.results(); !slices.Equal(got, want) {
		t.Fatalf("acquire results %v; want %v", got, want)
	}
	r.mu.Lock()
	ev := r.acquires[3]
	joined, left := r.joined, r.left
	r.mu.Unlock()
	// The Limiter reads its clock after the deadline was set, so Duration
	// may fall a little short of 50ms; half of it still tells a whole
	// call's time from one try's (a round trip, well under a millisecond).
	if ev.Key != "k" || ev.Duration < 25*time.Millisecond || ev.Duration > waited || !errors.Is(ev.Err, context.DeadlineExceeded) {
		t.Errorf("canceled Acquire event %+v; want key k, 25ms <= Duration <= %v, Err DeadlineExceeded", ev, waited)
	}
	if !slices.Equal(joined, []string{"k"}) || !slices.Equal(left, []string{"k"}) {
		t.Errorf("waiters joined %q, left %q; want [k] and [k]", joined, left)
	}
	want2 := redisslot.Stats{Acquired: 1, Full: 1, Errors: 1, Canceled: 1, Closed: 1}
	if got := f.l.Stats(); got != want2 {
		t.Errorf("Stats() = %+v; want %+v", got, want2)
	}
}

// A call refused because the key's queue is at its cap is told as
// queue_full, apart from full; the waiter that holds the queue is told as
// canceled when its ctx is.
func TestHookHearsQueueFull(t *testing.T) {
	f, r := newRecorded(t, redisslot.Options{Lease: longLease, MaxWaiters: 1})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	wctx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	waited := make(chan error, 1)
	go func() {
		_, rel, err := f.l.Acquire(wctx, "k", 1) // it must end with its ctx
		if err == nil {
			rel()
		}
		waited <- err
	}()
	eventually(t, "the waiter waits", func() bool { return f.l.Stats().Waiting == 1 })
	// A bounded ctx: without the cap, the call would wait.
	if _, _, err := f.l.Acquire(ctxWithin(t, waitAtOnce), "k", 1); !errors.Is(err, redisslot.ErrQueueFull) {
		t.Fatalf("Acquire beyond MaxWaiters: %v; want ErrQueueFull", err)
	}
	hangUp()
	if err := recv(t, waited, waitAtOnce, "the waiter did not return on its hang-up"); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiter whose ctx was cancelled: %v; want context.Canceled", err)
	}
	want := []redisslot.AcquireResult{redisslot.AcquireAcquired, redisslot.AcquireQueueFull, redisslot.AcquireCanceled}
	if got := r.results(); !slices.Equal(got, want) {
		t.Errorf("acquire results %v; want %v", got, want)
	}
	if got := f.l.Stats(); got.QueueFull != 1 || got.Full != 0 || got.Canceled != 1 || got.Waiting != 0 {
		t.Errorf("Stats() = %+v; want QueueFull 1, Full 0, Canceled 1, Waiting 0", got)
	}
}

// Each way a slot ends is told once, read from the slot's context cause,
// and Held counts the slots not yet ended.
func TestHookHearsHowEachSlotEnded(t *testing.T) {
	f, r := newRecorded(t, redisslot.Options{Lease: testLease})
	ctx := ctxWithTimeout(t)
	raw := redistest.Shared(t).Client(t)

	_, relA := mustTry(t, f.l, ctx, "released", 1)
	parent, hangUp := context.WithCancel(ctx)
	sctxB, relB := mustTry(t, f.l, parent, "canceled", 1)
	defer relB()
	sctxC, relC := mustTry(t, f.l, ctx, "lost", 1)
	defer relC()
	_, relD := mustTry(t, f.l, ctx, "closed", 1)
	defer relD()
	if got := f.l.Stats().Held; got != 4 {
		t.Fatalf("Stats().Held = %d with 4 slots taken; want 4", got)
	}

	relA()
	hangUp()
	recv(t, sctxB.Done(), waitAtOnce, "slot context not done after the hang-up")
	if err := raw.Del(ctx, redisslot.SlotKey(f.l, "lost")).Err(); err != nil {
		t.Fatal(err)
	}
	redisslot.RenewNow(f.l)
	recv(t, sctxC.Done(), waitAtOnce, "slot context not done after a renewal round found its key gone")
	eventually(t, "the hang-up's and the lost lease's slots end", func() bool {
		return len(r.endsOf("canceled")) == 1 && len(r.endsOf("lost")) == 1
	})
	if got := f.l.Stats(); got.Held != 1 || got.LeasesLost != 1 {
		t.Errorf("Stats() = %+v before Close; want Held 1, LeasesLost 1", got)
	}
	if err := f.l.Close(); err != nil {
		t.Fatal(err)
	}

	for key, want := range map[string]redisslot.SlotEnd{
		"released": redisslot.SlotReleased, "canceled": redisslot.SlotCanceled,
		"lost": redisslot.SlotLeaseLost, "closed": redisslot.SlotClosed,
	} {
		evs := r.endsOf(key)
		if len(evs) != 1 || evs[0].End != want || evs[0].Held <= 0 {
			t.Errorf("slot of %q ended with %+v; want one event, End %v, Held > 0", key, evs, want)
		}
	}
	r.mu.Lock()
	lost := r.lost
	r.mu.Unlock()
	if len(lost) != 1 || lost[0].Key != "lost" {
		t.Errorf("LeaseLost events %+v; want one, of key lost", lost)
	}
	if got := f.l.Stats(); got.Held != 0 || got.LeasesLost != 1 {
		t.Errorf("Stats() = %+v after Close; want Held 0, LeasesLost 1", got)
	}
}

// A renewal round is told with its keys, calls and failures.
func TestHookHearsRenewalRounds(t *testing.T) {
	f, r := newRecorded(t, redisslot.Options{Lease: longLease})
	warmUp(t, f.l) // the round of the canary's first confirmation comes first
	r.mu.Lock()
	r.rounds = nil
	r.mu.Unlock()
	before := f.l.Stats().RenewalRounds
	ctx := ctxWithTimeout(t)
	for _, key := range []string{"a", "a", "b"} {
		_, rel := mustTry(t, f.l, ctx, key, 2)
		defer rel()
	}
	redisslot.RenewNow(f.l)
	r.mu.Lock()
	rounds := r.rounds
	r.mu.Unlock()
	// On a single node, one call renews the slots of many keys.
	if len(rounds) != 1 || rounds[0].Keys != 2 || rounds[0].Calls != 1 || rounds[0].Failures != 0 || rounds[0].Duration <= 0 {
		t.Fatalf("renewal rounds %+v; want one of 2 keys, 1 call, no failure", rounds)
	}
	if got := f.l.Stats(); got.RenewalRounds != before+1 || got.RenewalFailures != 0 {
		t.Errorf("Stats() = %+v; want RenewalRounds %d, RenewalFailures 0", got, before+1)
	}
}

// Stats counts the frees not yet confirmed: while Redis refuses them, a
// released slot stays a pending free; once Redis takes them again, none is.
func TestStatsCountsPendingFrees(t *testing.T) {
	f, _ := newRecorded(t, redisslot.Options{Lease: testLease})
	var refuse atomic.Bool
	var refused atomic.Int64
	refuse.Store(true)
	errRefused := errors.New("test: free refused")
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if refuse.Load() {
			refused.Add(1)
			return failWith(cmds, errRefused)
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	eventually(t, "the free is sent and refused", func() bool { return refused.Load() > 0 })
	if got := f.l.Stats(); got.PendingFrees != 1 || got.Held != 0 {
		t.Errorf("Stats() = %+v after a release whose free is refused; want PendingFrees 1, Held 0", got)
	}
	refuse.Store(false)
	eventually(t, "the pending free is sent again and confirmed", func() bool { return f.l.Stats().PendingFrees == 0 })
}

// Each AcquireResult and SlotEnd is named by String, as the metrics
// adapters label them; a value beyond them is "unknown".
func TestResultAndEndNames(t *testing.T) {
	results := map[redisslot.AcquireResult]string{
		redisslot.AcquireAcquired: "acquired", redisslot.AcquireFull: "full", redisslot.AcquireQueueFull: "queue_full",
		redisslot.AcquireCanceled: "canceled", redisslot.AcquireClosed: "closed", redisslot.AcquireError: "error",
		redisslot.AcquireFallback: "fallback", redisslot.AcquireFallback + 1: "unknown",
	}
	for r, want := range results {
		if got := r.String(); got != want {
			t.Errorf("AcquireResult(%d).String() = %q; want %q", r, got, want)
		}
	}
	ends := map[redisslot.SlotEnd]string{
		redisslot.SlotReleased: "released", redisslot.SlotCanceled: "canceled", redisslot.SlotLeaseLost: "lease_lost",
		redisslot.SlotClosed: "closed", redisslot.SlotClosed + 1: "unknown",
	}
	for e, want := range ends {
		if got := e.String(); got != want {
			t.Errorf("SlotEnd(%d).String() = %q; want %q", e, got, want)
		}
	}
}

// lateCtx is a Context of its own kind (not from the context package)
// whose end reaches the functions registered through its AfterFunc method
// only when runAfterFuncs is called: a slot's context, made from it,
// learns of its end late, and a release can come in between.
type lateCtx struct {
	mu         sync.Mutex
	done       chan struct{}
	err        error
	afterFuncs map[*func()]bool
}

func newLateCtx() *lateCtx {
	return &lateCtx{done: make(chan struct{}), afterFuncs: make(map[*func()]bool)}
}

func (c *lateCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *lateCtx) Done() <-chan struct{}       { return c.done }
func (c *lateCtx) Value(any) any               { return nil }

func (c *lateCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *lateCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.afterFuncs[&f] = true
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		registered := c.afterFuncs[&f]
		delete(c.afterFuncs, &f)
		return registered
	}
}

// end makes c done with err, running none of its AfterFunc functions yet.
func (c *lateCtx) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	close(c.done)
}

func (c *lateCtx) runAfterFuncs() {
	c.mu.Lock()
	fs := c.afterFuncs
	c.afterFuncs = nil
	c.mu.Unlock()
	for f := range fs {
		(*f)()
	}
}

// A slot that its release ended is heard as released, even when its
// acquiring ctx had ended too, with another cause, whose end had not yet
// reached the slot's context: what ended the slot first was the release.
func TestHookHearsAReleaseThatCameBeforeTheCtxsEndReachedTheSlot(t *testing.T) {
	f, r := newRecorded(t, redisslot.Options{Lease: longLease})
	ctx := newLateCtx()
	defer ctx.runAfterFuncs()
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	ctx.end(context.DeadlineExceeded)
	rel()
	eventually(t, "the slot's end heard", func() bool { return len(r.endsOf("k")) == 1 })
	if got := r.endsOf("k")[0].End; got != redisslot.SlotReleased {
		t.Errorf("SlotEvent.End = %v; want %v: the release ended the slot before its ctx's end reached it", got, redisslot.SlotReleased)
	}
}
