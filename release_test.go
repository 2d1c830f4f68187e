package release_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"runtime"
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

func TestReleaseRunsFnOnceOnItsGoroutine(t *testing.T) {
	for _, c := range cancelable() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			var runs int // no atomics: fn must run on this goroutine
			rel := release.WrapOnDone(ctx, func() { runs++ })
			if runs != 0 {
				t.Fatalf("WrapOnDone ran fn %d times before release; want 0", runs)
			}
			rel()
			if runs != 1 {
				t.Fatalf("release returned with fn run %d times; want 1", runs)
			}
			rel()
			cancel()
			rel()
			if runs != 1 {
				t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", runs)
			}
		})
	}
}

func TestCtxDoneRunsFnOnce(t *testing.T) {
	for _, c := range cancelable() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			var runs atomic.Int32
			ran := make(chan struct{})
			rel := release.WrapOnDone(ctx, func() {
				runs.Add(1)
				close(ran)
			})
			cancel()
			waitFor(t, ran, "fn to run after ctx was done")
			rel()
			rel()
			if n := runs.Load(); n != 1 {
				t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
			}
		})
	}
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
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := c.new()
				defer cancel()
				start := time.Now()
				var runs atomic.Int32
				var ranAt time.Time
				rel := release.WrapOnDone(ctx, func() {
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
					t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
				}
			})
		})
	}
}

func TestReleaseBeforeDeadlineRunsFnOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var runs atomic.Int32
		rel := release.WrapOnDone(ctx, func() { runs.Add(1) })
		time.Sleep(time.Second)
		rel()
		time.Sleep(2 * time.Minute) // well past the deadline
		synctest.Wait()
		if n := runs.Load(); n != 1 {
			t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
		}
	})
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

func TestReleaseWaitsForFnStartedByCtx(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	started, unblock := make(chan struct{}), make(chan struct{})
	var fnReturned atomic.Bool
	rel := release.WrapOnDone(ctx, func() {
		close(started)
		<-unblock
		fnReturned.Store(true)
	})
	cancel()
	waitFor(t, started, "ctx to start fn")

	returned := make(chan bool, 1)
	go callRelease(rel, &fnReturned, returned)
	// Hold fn until release is parked waiting for it. A release that does not
	// wait returns here instead, while fn is still running.
	deadline := time.After(hangGuard)
	for !blockedIn("release_test.callRelease", "sync.Mutex.Lock") {
		select {
		case <-returned:
			close(unblock)
			t.Fatal("release returned while fn, started by ctx, was still running")
		case <-deadline:
			close(unblock)
			t.Fatal("timed out waiting for release to wait for fn")
		default:
			runtime.Gosched()
		}
	}
	close(unblock)
	if !<-returned {
		t.Fatal("release returned before fn had returned")
	}
}

func TestConcurrentReleasesRunFnOnce(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const callers = 16
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	var fnReturned atomic.Bool
	rel := release.WrapOnDone(ctx, func() {
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
		t.Fatalf("WrapOnDone(...) ran fn %d times under %d concurrent releases; want 1", n, callers)
	}
}

func TestReleaseRacingCancelRunsFnOnce(t *testing.T) {
	for _, c := range cancelable() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			const rounds = 500
			for range rounds {
				ctx, cancel := c.new()
				var runs atomic.Int32
				var fnReturned atomic.Bool
				rel := release.WrapOnDone(ctx, func() {
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
					t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
				}
			}
		})
	}
}

func TestNilFnReturnsNil(t *testing.T) {
	if rel := release.WrapOnDone(context.Background(), nil); rel != nil {
		t.Fatal("WrapOnDone(ctx, nil) returned a non-nil release; want nil")
	}
}

func TestNilContextPanics(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.HasPrefix(msg, "release: ") || !strings.Contains(msg, "nil Context") {
			t.Fatalf("WrapOnDone(nil, fn) panicked with %q; want a message starting %q that names the nil Context", msg, "release: ")
		}
	}()
	//lint:ignore SA1012 a nil Context is the misuse under test
	release.WrapOnDone(nil, func() { t.Error("fn ran for a nil Context") })
	t.Fatal("WrapOnDone(nil, fn) returned; want a panic")
}

// watchers counts the goroutines that context.AfterFunc parks to watch a
// Context it cannot hook.
func watchers() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "\ncontext.(*cancelCtx).propagateCancel.func")
}

func TestPendingGuardHoldsNoGoroutine(t *testing.T) {
	const pending = 100
	for _, c := range cancelable() {
		if c.name == "custom Context" {
			continue // TestWatcherExitsOnRelease
		}
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			defer cancel()
			ignore := goleak.IgnoreCurrent()
			rels := make([]func(), pending)
			for i := range rels {
				rels[i] = release.WrapOnDone(ctx, func() {})
			}
			if err := goleak.Find(ignore); err != nil {
				t.Fatalf("%d pending guards started goroutines; want none: %v", pending, err)
			}
			for _, rel := range rels {
				rel()
			}
		})
	}
}

func TestWatcherExitsOnRelease(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const pending = 100
	ctx := newChanCtx()
	defer ctx.cancel()
	before := watchers()
	rels := make([]func(), pending)
	for i := range rels {
		rels[i] = release.WrapOnDone(ctx, func() {})
	}
	if got := watchers() - before; got != pending {
		t.Fatalf("%d pending guards on a custom Context have %d watcher goroutines; want %d", pending, got, pending)
	}
	for _, rel := range rels {
		rel()
	}
	deadline := time.After(hangGuard)
	for watchers() != before {
		select {
		case <-deadline:
			t.Fatalf("%d watcher goroutines remain after every guard was released; want 0", watchers()-before)
		default:
			runtime.Gosched()
		}
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
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Registering with context.AfterFunc allocates; a guard that
			// registers nothing makes only the guard and its function.
			allocs := testing.AllocsPerRun(100, func() {
				release.WrapOnDone(c.ctx, func() {})()
			})
			if allocs > 2 {
				t.Errorf("WrapOnDone on a never-done ctx made %v allocations; want at most 2 (nothing registered)", allocs)
			}
			var runs int
			rel := release.WrapOnDone(c.ctx, func() { runs++ })
			if runs != 0 {
				t.Fatalf("fn ran %d times before release; want 0", runs)
			}
			rel()
			rel()
			if runs != 1 {
				t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", runs)
			}
		})
	}
}

func TestAlreadyDoneCtxRunsFnOnItsOwnGoroutine(t *testing.T) {
	for _, c := range cancelable() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			cancel()
			var runs atomic.Int32
			started, unblock := make(chan struct{}), make(chan struct{})
			wrapped := make(chan func())
			go func() {
				// fn blocks until unblock is closed, so WrapOnDone returns
				// only if fn runs on another goroutine.
				wrapped <- release.WrapOnDone(ctx, func() {
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
				t.Fatal("WrapOnDone on a done ctx waited for fn; want it to return at once")
			}
			waitFor(t, started, "fn to run for an already-done ctx")
			close(unblock)
			rel()
			if n := runs.Load(); n != 1 {
				t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
			}
		})
	}
}

var cyclesFlag = flag.Int("cycles", 0,
	"wrap-and-release cycles for TestReleaseUnregistersFromCtx (0: 1,000,000, or 100,000 with -race or -short)")

func TestReleaseUnregistersFromCtx(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// A million cycles; a tenth of that under the race detector or -short,
	// still a hundred times what a leak needs to show, unless -cycles says.
	cycles := *cyclesFlag
	if cycles == 0 {
		cycles = 1_000_000
		if raceEnabled || testing.Short() {
			cycles = 100_000
		}
	}
	const limit = 1 << 20 // bytes; a leaked registration costs about 200
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
				release.WrapOnDone(ctx, fn)()
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
}

// touch returns a fn that uses p, then closes ran.
func touch(p *[64]byte, ran chan struct{}) func() {
	return func() {
		p[0]++
		close(ran)
	}
}

func TestFnCollectableAfterItRan(t *testing.T) {
	paths := []struct {
		name string
		run  func(rel func(), cancel func())
	}{
		{"run by release", func(rel, _ func()) { rel() }},
		{"run by ctx", func(_, cancel func()) { cancel() }},
	}
	for _, p := range paths {
		for _, c := range cancelable() {
			t.Run(p.name+"/"+c.name, func(t *testing.T) {
				defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
				ctx, cancel := c.new()
				defer cancel()
				collected := make(chan struct{})
				ran := make(chan struct{})
				captured := new([64]byte)
				runtime.AddCleanup(captured, func(ch chan struct{}) { close(ch) }, collected)
				rel := release.WrapOnDone(ctx, touch(captured, ran))
				captured = nil
				p.run(rel, cancel)
				waitFor(t, ran, "fn to run")
				deadline := time.After(hangGuard)
				for done := false; !done; {
					runtime.GC()
					select {
					case <-collected:
						done = true
					case <-deadline:
						t.Fatal("what fn captured is still reachable after fn ran; want it collected")
					default:
						runtime.Gosched()
					}
				}
				runtime.KeepAlive(rel) // the release function alone keeps nothing
				runtime.KeepAlive(ctx)
			})
		}
	}
}

func TestPanicThroughReleaseReachesCaller(t *testing.T) {
	for _, c := range cancelable() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			var runs atomic.Int32
			rel := release.WrapOnDone(ctx, func() {
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
				t.Fatalf("WrapOnDone(...) ran fn %d times; want 1", n)
			}
		})
	}
}

// TestPanicOnCtxGoroutineCrashes runs itself in a child process in which fn
// panics on the goroutine ctx started; the child must crash with fn's panic.
func TestPanicOnCtxGoroutineCrashes(t *testing.T) {
	const msg = "fn panicked on ctx's goroutine"
	if os.Getenv("RELEASE_TEST_CRASH") == "1" {
		ctx, cancel := context.WithCancel(context.Background())
		rel := release.WrapOnDone(ctx, func() { panic(msg) })
		cancel()
		<-time.After(hangGuard) // the panic ends the process before this
		rel()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicOnCtxGoroutineCrashes$", "-test.count=1")
	cmd.Env = append(os.Environ(), "RELEASE_TEST_CRASH=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("child process: err = %v; want it to crash with exit status 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "panic: "+msg) {
		t.Fatalf("child process crashed without fn's panic; output:\n%s", out)
	}
}

func TestAllocationCeiling(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fn := func() {}
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
			t.Errorf("%s: wrap and release made %v allocations; want at most %v", c.name, got, c.max)
		}
	}
}
