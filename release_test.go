package release_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctxguard/release"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The fuzzing engine's own goroutines, present while fuzzing.
		goleak.IgnoreTopFunction("testing.(*F).Fuzz.func1"),
		goleak.IgnoreTopFunction("os/signal.NotifyContext.func1"),
	)
}

// hangGuard bounds every wait in these tests; no test waits on it unless
// something is already broken.
const hangGuard = 10 * time.Second

// waitFor waits for ch to be closed or to deliver, failing the test after
// hangGuard.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(hangGuard):
		t.Fatalf("timed out after %v waiting for %s", hangGuard, what)
	}
}

// chanCtx is a Context implemented outside the context package: the
// runtime cannot hook it, so context.AfterFunc watches it with a goroutine.
type chanCtx struct {
	done chan struct{}
	once sync.Once
	err  atomic.Value
}

func newChanCtx() *chanCtx { return &chanCtx{done: make(chan struct{})} }

func (c *chanCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *chanCtx) Done() <-chan struct{}       { return c.done }
func (c *chanCtx) Value(any) any               { return nil }
func (c *chanCtx) Err() error {
	if err, ok := c.err.Load().(error); ok {
		return err
	}
	return nil
}
func (c *chanCtx) cancel() {
	c.once.Do(func() {
		c.err.Store(context.Canceled)
		close(c.done)
	})
}

// neverDoneCtx is a Context implemented outside the context package whose
// Done returns nil: it can never be done.
type neverDoneCtx struct{ context.Context }

func (neverDoneCtx) Done() <-chan struct{} { return nil }

// embeddedCtx delegates to the Context it embeds, as many wrappers do.
type embeddedCtx struct{ context.Context }

type ctxKey struct{}

// cancelable returns the contexts WrapOnDone must handle, each with a way to
// make it done.
func cancelable() []struct {
	name string
	new  func() (context.Context, func())
} {
	return []struct {
		name string
		new  func() (context.Context, func())
	}{
		{"WithCancel", func() (context.Context, func()) {
			return context.WithCancel(context.Background())
		}},
		{"WithCancelCause", func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(errors.New("client went away")) }
		}},
		{"WithValue over WithCancel", func() (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return context.WithValue(ctx, ctxKey{}, 1), cancel
		}},
		{"embedding a WithCancel", func() (context.Context, func()) {
			ctx, cancel := context.WithCancel(context.Background())
			return embeddedCtx{ctx}, cancel
		}},
		{"custom Context", func() (context.Context, func()) {
			ctx := newChanCtx()
			return ctx, ctx.cancel
		}},
	}
}

// A wrapper makes a guard; every promise WrapOnDone keeps, WrapOnDoneCause
// keeps too, so the tests of those promises run for both.
type wrapper struct {
	name string
	wrap func(ctx context.Context, fn func()) func()
}

var wrappers = []wrapper{
	{"WrapOnDone", release.WrapOnDone},
	{"WrapOnDoneCause", func(ctx context.Context, fn func()) func() {
		return release.WrapOnDoneCause(ctx, func(error) { fn() })
	}},
}

// forEach runs test as a subtest for each wrapper and each context in
// cancelable, except those named in skip.
func forEach(t *testing.T, test func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())), skip ...string) {
	t.Helper()
	for _, w := range wrappers {
		for _, c := range cancelable() {
			if slices.Contains(skip, c.name) {
				continue
			}
			t.Run(w.name+"/"+c.name, func(t *testing.T) {
				defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
				test(t, w.wrap, c.new)
			})
		}
	}
}

// wrapFn is how forEach hands a test its way to make a guard.
type wrapFn = func(ctx context.Context, fn func()) func()

func TestReleaseRunsFnOnceOnItsGoroutine(t *testing.T) {
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		var runs int // no atomics: fn must run on this goroutine
		rel := wrap(ctx, func() { runs++ })
		if runs != 0 {
			t.Fatalf("wrap ran fn %d times before release; want 0", runs)
		}
		rel()
		if runs != 1 {
			t.Fatalf("release returned with fn run %d times; want 1", runs)
		}
		rel()
		cancel()
		rel()
		if runs != 1 {
			t.Fatalf("the guard ran fn %d times; want 1", runs)
		}
	})
}

func TestCtxDoneRunsFnOnce(t *testing.T) {
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		var runs atomic.Int32
		ran := make(chan struct{})
		rel := wrap(ctx, func() {
			runs.Add(1)
			close(ran)
		})
		cancel()
		waitFor(t, ran, "fn to run after ctx was done")
		rel()
		rel()
		if n := runs.Load(); n != 1 {
			t.Fatalf("the guard ran fn %d times; want 1", n)
		}
	})
}

func TestDeadlineRunsFnOnce(t *testing.T) {
	const timeout = 5 * time.Second
	cases := []struct {
		name string
		new  func() (context.Context, context.CancelFunc)
	}{
		{"WithTimeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), timeout)
		}},
		{"WithDeadline", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(timeout))
		}},
	}
	for _, w := range wrappers {
		for _, c := range cases {
			t.Run(w.name+"/"+c.name, func(t *testing.T) {
				defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
				synctest.Test(t, func(t *testing.T) {
					ctx, cancel := c.new()
					defer cancel()
					start := time.Now()
					var runs atomic.Int32
					var ranAt time.Time
					rel := w.wrap(ctx, func() {
						ranAt = time.Now()
						runs.Add(1)
					})
					time.Sleep(timeout - time.Nanosecond)
					synctest.Wait()
					if n := runs.Load(); n != 0 {
						t.Fatalf("fn ran %d times before the deadline; want 0", n)
					}
					time.Sleep(time.Nanosecond)
					synctest.Wait()
					if n := runs.Load(); n != 1 {
						t.Fatalf("fn ran %d times at the deadline; want 1", n)
					}
					if got := ranAt.Sub(start); got != timeout {
						t.Errorf("fn ran %v after the guard was made; want %v", got, timeout)
					}
					rel()
					if n := runs.Load(); n != 1 {
						t.Fatalf("the guard ran fn %d times; want 1", n)
					}
				})
			})
		}
	}
}

func TestReleaseBeforeDeadlineRunsFnOnce(t *testing.T) {
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				var runs atomic.Int32
				rel := w.wrap(ctx, func() { runs.Add(1) })
				time.Sleep(time.Second)
				rel()
				time.Sleep(2 * time.Minute) // well past the deadline
				synctest.Wait()
				if n := runs.Load(); n != 1 {
					t.Fatalf("the guard ran fn %d times; want 1", n)
				}
			})
		})
	}
}

// callRelease calls release and reports whether fn had returned by then.
// Its name marks the goroutine for blockedIn.
func callRelease(release func(), fnReturned *atomic.Bool, returned chan<- bool) {
	release()
	returned <- fnReturned.Load()
}

// blockedIn reports whether a goroutine running function fn is blocked in
// state, as runtime.Stack prints it (e.g. "sync.Mutex.Lock").
func blockedIn(fn, state string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "["+state) && strings.Contains(g, fn+"(") {
			return true
		}
	}
	return false
}

// awaitReleaseWaiting returns once a goroutine in callRelease is parked
// waiting for fn. A release that does not wait sends on returned instead,
// and the test fails. Either way it closes unblock, which lets fn return.
func awaitReleaseWaiting(t *testing.T, returned <-chan bool, unblock chan struct{}) {
	t.Helper()
	defer close(unblock)
	deadline := time.After(hangGuard)
	for !blockedIn("release_test.callRelease", "sync.Mutex.Lock") {
		select {
		case <-returned:
			t.Fatal("release returned while fn, started by ctx, was still running")
		case <-deadline:
			t.Fatal("timed out waiting for release to wait for fn")
		default:
			runtime.Gosched()
		}
	}
}

func TestReleaseWaitsForFnStartedByCtx(t *testing.T) {
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		started, unblock := make(chan struct{}), make(chan struct{})
		var fnReturned atomic.Bool
		rel := wrap(ctx, func() {
			close(started)
			<-unblock
			fnReturned.Store(true)
		})
		cancel()
		waitFor(t, started, "ctx to start fn")

		returned := make(chan bool, 1)
		go callRelease(rel, &fnReturned, returned)
		// Hold fn until release is parked waiting for it.
		awaitReleaseWaiting(t, returned, unblock)
		if !<-returned {
			t.Fatal("release returned before fn had returned")
		}
	})
}

func TestConcurrentReleasesRunFnOnce(t *testing.T) {
	const callers = 16
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		defer cancel()
		var runs atomic.Int32
		var fnReturned atomic.Bool
		rel := wrap(ctx, func() {
			runs.Add(1)
			runtime.Gosched() // widen the window in which other callers arrive
			fnReturned.Store(true)
		})
		start := make(chan struct{})
		returned := make(chan bool, callers)
		for range callers {
			go func() {
				<-start
				callRelease(rel, &fnReturned, returned)
			}()
		}
		close(start)
		for range callers {
			if !<-returned {
				t.Error("a concurrent release returned before fn had returned")
			}
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("the guard ran fn %d times under %d concurrent releases; want 1", n, callers)
		}
	})
}

func TestReleaseRacingCancelRunsFnOnce(t *testing.T) {
	const rounds = 300
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		for range rounds {
			ctx, cancel := newCtx()
			var runs atomic.Int32
			var fnReturned atomic.Bool
			rel := wrap(ctx, func() {
				runs.Add(1)
				fnReturned.Store(true)
			})
			start := make(chan struct{})
			canceled := make(chan struct{})
			go func() {
				<-start
				cancel()
				close(canceled)
			}()
			returned := make(chan bool, 1)
			close(start)
			callRelease(rel, &fnReturned, returned)
			if !<-returned {
				t.Fatal("release returned before fn had returned")
			}
			<-canceled
			if n := runs.Load(); n != 1 {
				t.Fatalf("the guard ran fn %d times; want 1", n)
			}
		}
	})
}

func TestNilFnReturnsNil(t *testing.T) {
	if rel := release.WrapOnDone(context.Background(), nil); rel != nil {
		rel()
		t.Error("WrapOnDone(ctx, nil) returned a non-nil release; want nil")
	}
	if rel := release.WrapOnDoneCause(context.Background(), nil); rel != nil {
		rel()
		t.Error("WrapOnDoneCause(ctx, nil) returned a non-nil release; want nil")
	}
}

func TestNilContextPanics(t *testing.T) {
	cases := []struct {
		name string
		call func()
	}{
		//lint:ignore SA1012 a nil Context is the misuse under test
		{"WrapOnDone", func() { release.WrapOnDone(nil, func() { t.Error("fn ran for a nil Context") }) }},
		//lint:ignore SA1012 a nil Context is the misuse under test
		{"WrapOnDone with nil fn", func() { release.WrapOnDone(nil, nil) }},
		//lint:ignore SA1012 a nil Context is the misuse under test
		{"WrapOnDoneCause", func() { release.WrapOnDoneCause(nil, func(error) { t.Error("fn ran for a nil Context") }) }},
		//lint:ignore SA1012 a nil Context is the misuse under test
		{"WrapOnDoneCause with nil fn", func() { release.WrapOnDoneCause(nil, nil) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "release: ") || !strings.Contains(msg, "nil Context") {
					t.Fatalf("%s(nil, ...) panicked with %q; want a message starting %q that names the nil Context", c.name, msg, "release: ")
				}
			}()
			c.call()
			t.Fatalf("%s(nil, ...) returned; want a panic", c.name)
		})
	}
}

// watchers counts the goroutines that context.AfterFunc parks to watch a
// Context it cannot hook.
func watchers() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "\ncontext.(*cancelCtx).propagateCancel.func")
}

// waitWatchers waits until the number of watcher goroutines is want.
func waitWatchers(t *testing.T, want int, what string) {
	t.Helper()
	deadline := time.After(hangGuard)
	for watchers() != want {
		select {
		case <-deadline:
			t.Fatalf("%s: %d watcher goroutines; want %d", what, watchers(), want)
		default:
			runtime.Gosched()
		}
	}
}

func TestPendingGuardHoldsNoGoroutine(t *testing.T) {
	const pending = 100
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		defer cancel()
		ignore := goleak.IgnoreCurrent()
		rels := make([]func(), pending)
		for i := range rels {
			rels[i] = wrap(ctx, func() {})
		}
		if err := goleak.Find(ignore); err != nil {
			t.Fatalf("%d pending guards started goroutines; want none: %v", pending, err)
		}
		for _, rel := range rels {
			rel()
		}
	}, "custom Context") // TestWatcherExitsOnRelease
}

// afterFuncCtx is a Context implemented outside the context package that
// has an AfterFunc method of its own, which context.AfterFunc calls instead
// of parking a goroutine. It counts the functions registered and not
// stopped.
type afterFuncCtx struct {
	*chanCtx
	mu  sync.Mutex
	fns map[int]func()
	n   int
}

func newAfterFuncCtx() *afterFuncCtx {
	return &afterFuncCtx{chanCtx: newChanCtx(), fns: map[int]func(){}}
}

func (c *afterFuncCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.n
	c.n++
	c.fns[id] = f
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.fns[id]
		delete(c.fns, id)
		return ok
	}
}

func (c *afterFuncCtx) registered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fns)
}

// cancel ends ctx and runs every registered function on a goroutine of its
// own, as the context package does.
func (c *afterFuncCtx) cancel() {
	c.chanCtx.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, f := range c.fns {
		delete(c.fns, id)
		go f()
	}
}

func TestContextWithAfterFuncMethodHoldsNoGoroutine(t *testing.T) {
	const pending = 100
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			for _, path := range []string{"release", "ctx"} {
				ctx := newAfterFuncCtx()
				ignore := goleak.IgnoreCurrent()
				var runs atomic.Int32
				var wg sync.WaitGroup
				wg.Add(pending)
				rels := make([]func(), pending)
				for i := range rels {
					rels[i] = w.wrap(ctx, func() { runs.Add(1); wg.Done() })
				}
				if err := goleak.Find(ignore); err != nil {
					t.Fatalf("%d pending guards on a Context with an AfterFunc method started goroutines; want none: %v", pending, err)
				}
				if got := ctx.registered(); got != pending {
					t.Fatalf("%d pending guards registered %d functions with ctx's AfterFunc; want %d", pending, got, pending)
				}
				if path == "ctx" {
					ctx.cancel()
					wg.Wait()
				}
				for _, rel := range rels {
					rel()
				}
				wg.Wait()
				if got := ctx.registered(); got != 0 {
					t.Errorf("after %s ran every fn, %d functions remain registered; want 0", path, got)
				}
				if n := runs.Load(); n != pending {
					t.Fatalf("%d guards ran fn %d times; want %d", pending, n, pending)
				}
				ctx.cancel()
			}
		})
	}
}

func TestWatcherExitsOnRelease(t *testing.T) {
	const pending = 100
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx := newChanCtx()
			defer ctx.cancel()
			before := watchers()
			rels := make([]func(), pending)
			for i := range rels {
				rels[i] = w.wrap(ctx, func() {})
			}
			if got := watchers() - before; got != pending {
				t.Fatalf("%d pending guards on a custom Context have %d watcher goroutines; want %d", pending, got, pending)
			}
			for _, rel := range rels {
				rel()
			}
			waitWatchers(t, before, "after every guard was released")
		})
	}
}

// TestPanickingFnStillUnregisters checks that a release whose fn panics has
// still unregistered the guard: on a custom Context, its watcher exits.
func TestPanickingFnStillUnregisters(t *testing.T) {
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx := newChanCtx()
			defer ctx.cancel()
			before := watchers()
			rel := w.wrap(ctx, func() { panic("fn failed") })
			if got := watchers() - before; got != 1 {
				t.Fatalf("a pending guard on a custom Context has %d watcher goroutines; want 1", got)
			}
			func() {
				defer func() { _ = recover() }()
				rel()
			}()
			waitWatchers(t, before, "after a release whose fn panicked")
		})
	}
}

func TestNeverDoneContextRegistersNothing(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	cases := []struct {
		name string
		ctx  context.Context
	}{
		{"Background", context.Background()},
		{"TODO", context.TODO()},
		{"WithoutCancel", context.WithoutCancel(parent)},
		{"custom Context with nil Done", neverDoneCtx{context.Background()}},
	}
	cancel()
	noop, noopCause := func() {}, func(error) {}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Registering with context.AfterFunc allocates; a guard that
			// registers nothing makes only the guard and its function.
			allocs := map[string]float64{
				"WrapOnDone": testing.AllocsPerRun(100, func() {
					release.WrapOnDone(c.ctx, noop)()
				}),
				"WrapOnDoneCause": testing.AllocsPerRun(100, func() {
					release.WrapOnDoneCause(c.ctx, noopCause)()
				}),
			}
			for name, n := range allocs {
				if n > 2 {
					t.Errorf("%s on a never-done ctx made %v allocations; want at most 2 (nothing registered)", name, n)
				}
			}
			for _, w := range wrappers {
				var runs int
				rel := w.wrap(c.ctx, func() { runs++ })
				if runs != 0 {
					t.Fatalf("%s: fn ran %d times before release; want 0", w.name, runs)
				}
				rel()
				rel()
				if runs != 1 {
					t.Fatalf("%s ran fn %d times; want 1", w.name, runs)
				}
			}
		})
	}
}

func TestAlreadyDoneCtxRunsFnOnItsOwnGoroutine(t *testing.T) {
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		cancel()
		var runs atomic.Int32
		started, unblock := make(chan struct{}), make(chan struct{})
		wrapped := make(chan func())
		go func() {
			// fn blocks until unblock is closed, so wrap returns only if fn
			// runs on another goroutine.
			wrapped <- wrap(ctx, func() {
				runs.Add(1)
				close(started)
				<-unblock
			})
		}()
		var rel func()
		select {
		case rel = <-wrapped:
		case <-time.After(hangGuard):
			close(unblock)
			t.Fatal("wrap on a done ctx waited for fn; want it to return at once")
		}
		waitFor(t, started, "fn to run for an already-done ctx")
		close(unblock)
		rel()
		if n := runs.Load(); n != 1 {
			t.Fatalf("the guard ran fn %d times; want 1", n)
		}
	})
}

var cyclesFlag = flag.Int("cycles", 0,
	"wrap-and-release cycles for TestReleaseUnregistersFromCtx (0: 1,000,000, or 25,000 with -race or -short)")

func TestReleaseUnregistersFromCtx(t *testing.T) {
	// A million cycles; 25,000 under the race detector or -short, still five
	// times what a leaked registration needs to pass the limit, unless
	// -cycles says.
	cycles := *cyclesFlag
	if cycles == 0 {
		cycles = 1_000_000
		if raceEnabled || testing.Short() {
			cycles = 25_000
		}
	}
	const limit = 1 << 20 // bytes; a leaked registration costs about 200
	noopCause := func(error) {}
	for _, w := range []wrapper{
		{"WrapOnDone", release.WrapOnDone},
		{"WrapOnDoneCause", func(ctx context.Context, _ func()) func() {
			return release.WrapOnDoneCause(ctx, noopCause)
		}},
	} {
		t.Run(w.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fn := func() {}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var wg sync.WaitGroup
			for range runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					for range cycles / runtime.GOMAXPROCS(0) {
						w.wrap(ctx, fn)()
					}
				})
			}
			wg.Wait()
			runtime.GC()
			runtime.ReadMemStats(&after)
			growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("live heap after %d wrap-and-release cycles on one ctx: %+d bytes (%.3f per cycle)",
				cycles, growth, float64(growth)/float64(cycles))
			if growth > limit {
				t.Fatalf("live heap grew by %d bytes over %d cycles; want at most %d", growth, cycles, limit)
			}
			runtime.KeepAlive(ctx)
		})
	}
}

// collectable returns a new object and a channel that is closed once the
// object has been collected.
func collectable() (*[64]byte, chan struct{}) {
	p := new([64]byte)
	collected := make(chan struct{})
	runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, collected)
	return p, collected
}

// waitCollected runs the collector until every channel in collected is
// closed, failing the test after hangGuard.
func waitCollected(t *testing.T, what string, collected ...chan struct{}) {
	t.Helper()
	deadline := time.After(hangGuard)
	for _, ch := range collected {
		for done := false; !done; {
			runtime.GC()
			select {
			case <-ch:
				done = true
			case <-deadline:
				t.Fatalf("%s is still reachable; want it collected", what)
			default:
				runtime.Gosched()
			}
		}
	}
}

// ranBy are the ways a guard's fn comes to run: a call of release, ctx's
// end, and a ctx that was done before the guard was made.
var ranBy = []struct {
	name string
	// run makes fn run for a guard on ctx. It returns the release function,
	// which the caller keeps alive, once fn has returned or panicked.
	run func(t *testing.T, wrap wrapFn, ctx context.Context, cancel func(), fn func()) func()
}{
	{"release", func(t *testing.T, wrap wrapFn, ctx context.Context, _ func(), fn func()) func() {
		rel := wrap(ctx, fn)
		func() {
			defer func() { _ = recover() }()
			rel()
		}()
		return rel
	}},
	{"ctx", func(t *testing.T, wrap wrapFn, ctx context.Context, cancel func(), fn func()) func() {
		ran := make(chan struct{})
		rel := wrap(ctx, func() { defer close(ran); fn() })
		cancel()
		waitFor(t, ran, "fn to run after ctx was done")
		return rel
	}},
	{"already-done ctx", func(t *testing.T, wrap wrapFn, ctx context.Context, cancel func(), fn func()) func() {
		ran := make(chan struct{})
		cancel()
		rel := wrap(ctx, func() { defer close(ran); fn() })
		waitFor(t, ran, "fn to run for an already-done ctx")
		return rel
	}},
}

// touch returns an fn that uses p, and then panics if panics is set.
func touch(p *[64]byte, panics bool) func() {
	return func() {
		p[0]++
		if panics {
			panic("fn failed")
		}
	}
}

func TestFnCollectableAfterItRan(t *testing.T) {
	for _, by := range ranBy {
		for _, panics := range []bool{false, true} {
			if panics && by.name != "release" {
				continue // a panic on ctx's goroutine ends the process
			}
			name := by.name
			if panics {
				name += " (fn panics)"
			}
			t.Run(name, func(t *testing.T) {
				forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
					ctx, cancel := newCtx()
					defer cancel()
					captured, collected := collectable()
					rel := by.run(t, wrap, ctx, cancel, touch(captured, panics))
					captured = nil
					waitCollected(t, "what fn captured, after fn ran,", collected)
					runtime.KeepAlive(rel) // the release function alone keeps nothing
					runtime.KeepAlive(ctx)
				})
			})
		}
	}
}

// TestReleaseKeepsCtxOnlyUntilFnRan checks that a release function kept
// alive after its fn has run holds neither ctx nor what ctx holds, however
// fn came to run.
func TestReleaseKeepsCtxOnlyUntilFnRan(t *testing.T) {
	type valueKey struct{}
	for _, by := range ranBy {
		for _, w := range wrappers {
			t.Run(by.name+"/"+w.name, func(t *testing.T) {
				defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
				value, collected := collectable()
				parent, cancel := context.WithCancel(context.Background())
				ctx := context.WithValue(parent, valueKey{}, value)
				value = nil
				rel := by.run(t, w.wrap, ctx, cancel, func() {})
				parent, ctx, cancel = nil, nil, nil
				waitCollected(t, "ctx, after fn ran with the release kept alive,", collected)
				runtime.KeepAlive(rel)
			})
		}
	}
}

// TestAlreadyDoneCtxKeepsNothingManyTimes makes many guards on contexts
// that are already done, where ctx's goroutine may run fn before the guard
// has finished registering, and checks that no release kept alive holds its
// ctx once fn has run.
func TestAlreadyDoneCtxKeepsNothingManyTimes(t *testing.T) {
	guards := 20_000
	if testing.Short() {
		guards = 2_000
	}
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			type valueKey struct{}
			var collected atomic.Int64
			var ran sync.WaitGroup
			rels := make([]func(), guards)
			var wg sync.WaitGroup
			per := guards / runtime.GOMAXPROCS(0)
			for p := range runtime.GOMAXPROCS(0) {
				wg.Go(func() {
					for i := p * per; i < (p+1)*per; i++ {
						value := new([64]byte)
						runtime.AddCleanup(value, func(*atomic.Int64) { collected.Add(1) }, &collected)
						ctx, cancel := context.WithCancel(context.WithValue(context.Background(), valueKey{}, value))
						cancel()
						ran.Add(1)
						rels[i] = w.wrap(ctx, ran.Done)
					}
				})
			}
			wg.Wait()
			ran.Wait()
			want := int64(per * runtime.GOMAXPROCS(0))
			deadline := time.After(hangGuard)
			for collected.Load() < want {
				runtime.GC()
				select {
				case <-deadline:
					t.Fatalf("%d of %d contexts are still reachable through a release kept alive after fn ran; want 0",
						want-collected.Load(), want)
				default:
					runtime.Gosched()
				}
			}
			runtime.KeepAlive(rels)
		})
	}
}

func TestPanicThroughReleaseReachesCaller(t *testing.T) {
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		var runs atomic.Int32
		rel := wrap(ctx, func() {
			runs.Add(1)
			panic("fn failed")
		})
		func() {
			defer func() {
				if got := recover(); got != "fn failed" {
					t.Fatalf("release panicked with %v; want fn's panic %q", got, "fn failed")
				}
			}()
			rel()
		}()
		rel() // released: must neither run fn nor panic
		cancel()
		rel()
		if n := runs.Load(); n != 1 {
			t.Fatalf("the guard ran fn %d times; want 1", n)
		}
	})
}

func TestGoexitInFnCountsAsReleased(t *testing.T) {
	forEach(t, func(t *testing.T, wrap wrapFn, newCtx func() (context.Context, func())) {
		ctx, cancel := newCtx()
		defer cancel()
		var runs atomic.Int32
		rel := wrap(ctx, func() {
			runs.Add(1)
			runtime.Goexit()
		})
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			rel()
			t.Error("release returned although fn called runtime.Goexit")
		}()
		waitFor(t, exited, "the goroutine whose fn called runtime.Goexit to exit")
		rel() // released: must neither run fn nor block
		cancel()
		rel()
		if n := runs.Load(); n != 1 {
			t.Fatalf("the guard ran fn %d times; want 1", n)
		}
	})
}

// TestPanicOnCtxGoroutineCrashes runs itself in a child process in which fn
// panics on the goroutine ctx started; the child must crash with fn's panic.
func TestPanicOnCtxGoroutineCrashes(t *testing.T) {
	const msg = "fn panicked on ctx's goroutine"
	if w := os.Getenv("RELEASE_TEST_CRASH"); w != "" {
		i := slices.IndexFunc(wrappers, func(x wrapper) bool { return x.name == w })
		ctx, cancel := context.WithCancel(context.Background())
		rel := wrappers[i].wrap(ctx, func() { panic(msg) })
		cancel()
		<-time.After(hangGuard) // the panic ends the process before this
		rel()
		return
	}
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPanicOnCtxGoroutineCrashes$", "-test.count=1")
			cmd.Env = append(os.Environ(), "RELEASE_TEST_CRASH="+w.name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child process: err = %v; want it to crash with exit status 2\n%s", err, out)
			}
			if !strings.Contains(string(out), "panic: "+msg) {
				t.Fatalf("child process crashed without fn's panic; output:\n%s", out)
			}
		})
	}
}

func TestAllocationCeiling(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fn, fnCause := func() {}, func(error) {}
	cases := []struct {
		name string
		ctx  context.Context
		max  float64
	}{
		// context.AfterFunc's registration makes 2 of these 4.
		{"cancelable ctx", ctx, 4},
		{"Background", context.Background(), 2},
	}
	for _, c := range cases {
		got := testing.AllocsPerRun(1000, func() {
			release.WrapOnDone(c.ctx, fn)()
		})
		if got > c.max {
			t.Errorf("WrapOnDone, %s: wrap and release made %v allocations; want at most %v", c.name, got, c.max)
		}
		got = testing.AllocsPerRun(1000, func() {
			release.WrapOnDoneCause(c.ctx, fnCause)()
		})
		if got > c.max {
			t.Errorf("WrapOnDoneCause, %s: wrap and release made %v allocations; want at most %v", c.name, got, c.max)
		}
	}
}

// TestReleaseUnregistersBeforeFnRuns checks that the guard is gone from ctx
// by the time fn runs, on a Context that counts its registrations.
func TestReleaseUnregistersBeforeFnRuns(t *testing.T) {
	for _, w := range wrappers {
		t.Run(w.name, func(t *testing.T) {
			ctx := newAfterFuncCtx()
			defer ctx.cancel()
			registered := -1
			rel := w.wrap(ctx, func() { registered = ctx.registered() })
			rel()
			if registered != 0 {
				t.Fatalf("while release ran fn, %d functions were registered with ctx; want 0", registered)
			}
		})
	}
}
