package release_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctxguard/release"
	"go.uber.org/goleak"
)

var errHungUp = errors.New("client hung up")

// causeCases are contexts with the cause that WrapOnDoneCause must pass to
// fn once each is done.
func causeCases() []struct {
	name  string
	new   func() (context.Context, func())
	cause error
} {
	return []struct {
		name  string
		new   func() (context.Context, func())
		cause error
	}{
		{"WithCancel", func() (context.Context, func()) {
			return context.WithCancel(context.Background())
		}, context.Canceled},
		{"WithCancelCause", func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(errHungUp) }
		}, errHungUp},
		{"WithValue over WithCancelCause", func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return context.WithValue(ctx, ctxKey{}, 1), func() { cancel(errHungUp) }
		}, errHungUp},
		{"embedding a WithCancelCause", func() (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return embeddedCtx{ctx}, func() { cancel(errHungUp) }
		}, errHungUp},
		{"custom Context", func() (context.Context, func()) {
			ctx := newChanCtx()
			return ctx, ctx.cancel
		}, context.Canceled},
	}
}

// recordCause returns an fn for WrapOnDoneCause that stores its cause and
// counts its runs, and a channel closed when it has run.
func recordCause(cause *atomic.Value, runs *atomic.Int32) (func(error), chan struct{}) {
	ran := make(chan struct{})
	return func(err error) {
		cause.Store(&err)
		if runs.Add(1) == 1 {
			close(ran)
		}
	}, ran
}

func loadCause(v *atomic.Value) error { return *v.Load().(*error) }

func TestCauseIsNilWhenReleaseRunsFirst(t *testing.T) {
	for _, c := range causeCases() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			var cause atomic.Value
			var runs atomic.Int32
			fn, _ := recordCause(&cause, &runs)
			rel := release.WrapOnDoneCause(ctx, fn)
			rel()
			cancel()
			rel()
			if n := runs.Load(); n != 1 {
				t.Fatalf("WrapOnDoneCause(...) ran fn %d times; want 1", n)
			}
			if err := loadCause(&cause); err != nil {
				t.Fatalf("release ran fn before ctx was done, and fn got %v; want nil", err)
			}
		})
	}
}

func TestCauseIsNilForNeverDoneCtx(t *testing.T) {
	for _, ctx := range []context.Context{
		context.Background(),
		context.WithoutCancel(context.Background()),
		neverDoneCtx{context.Background()},
	} {
		var got error = errHungUp
		rel := release.WrapOnDoneCause(ctx, func(err error) { got = err })
		rel()
		if got != nil {
			t.Errorf("on a never-done %T, fn got %v; want nil", ctx, got)
		}
	}
}

func TestCauseIsCtxCauseWhenCtxRunsFn(t *testing.T) {
	for _, c := range causeCases() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			var cause atomic.Value
			var runs atomic.Int32
			fn, ran := recordCause(&cause, &runs)
			rel := release.WrapOnDoneCause(ctx, fn)
			cancel()
			waitFor(t, ran, "ctx to run fn")
			rel()
			if n := runs.Load(); n != 1 {
				t.Fatalf("WrapOnDoneCause(...) ran fn %d times; want 1", n)
			}
			if err := loadCause(&cause); err != c.cause {
				t.Fatalf("ctx ran fn with cause %v; want %v", err, c.cause)
			}
		})
	}
}

func TestCauseForAlreadyDoneCtx(t *testing.T) {
	for _, c := range causeCases() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ctx, cancel := c.new()
			cancel()
			var cause atomic.Value
			var runs atomic.Int32
			fn, ran := recordCause(&cause, &runs)
			rel := release.WrapOnDoneCause(ctx, fn)
			rel() // whichever runs fn, ctx was done first
			waitFor(t, ran, "fn to run")
			if n := runs.Load(); n != 1 {
				t.Fatalf("WrapOnDoneCause(...) ran fn %d times; want 1", n)
			}
			if err := loadCause(&cause); err != c.cause {
				t.Fatalf("fn got cause %v for an already-done ctx; want %v", err, c.cause)
			}
		})
	}
}

func TestCauseAtDeadline(t *testing.T) {
	errSlow := errors.New("upstream too slow")
	cases := []struct {
		name  string
		new   func() (context.Context, context.CancelFunc)
		cause error
	}{
		{"WithTimeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Minute)
		}, context.DeadlineExceeded},
		{"WithTimeoutCause", func() (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(context.Background(), time.Minute, errSlow)
		}, errSlow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := c.new()
				defer cancel()
				var got []error
				rel := release.WrapOnDoneCause(ctx, func(err error) { got = append(got, err) })
				time.Sleep(time.Minute)
				synctest.Wait()
				rel()
				if len(got) != 1 || got[0] != c.cause {
					t.Fatalf("at the deadline fn ran with causes %v; want once, with %v", got, c.cause)
				}
			})
		})
	}
}

// TestCauseWhenReleaseRunsFnAfterCtxIsDone calls release after ctx is done
// but before ctx's callback can run fn: a Context with an AfterFunc method
// that ends without calling the functions registered with it makes the
// release path certain. fn must still get ctx's cause.
func TestCauseWhenReleaseRunsFnAfterCtxIsDone(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := newAfterFuncCtx()
	var got []error
	rel := release.WrapOnDoneCause(ctx, func(err error) { got = append(got, err) })
	ctx.chanCtx.cancel() // done, but no callback runs
	rel()
	if len(got) != 1 || got[0] != context.Canceled {
		t.Fatalf("release after ctx was done ran fn with causes %v; want once, with %v", got, context.Canceled)
	}
	if n := ctx.registered(); n != 0 {
		t.Fatalf("after release, %d functions remain registered with ctx; want 0", n)
	}
}

// TestCauseNeverNilOnceCtxIsDone ends ctx and then calls release at once,
// many times: whichever of them runs fn, ctx was done first, so fn must get
// ctx's cause, never nil.
func TestCauseNeverNilOnceCtxIsDone(t *testing.T) {
	const rounds = 300
	for _, c := range causeCases() {
		t.Run(c.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			for range rounds {
				ctx, cancel := c.new()
				var cause atomic.Value
				var runs atomic.Int32
				fn, ran := recordCause(&cause, &runs)
				rel := release.WrapOnDoneCause(ctx, fn)
				cancel()
				rel()
				waitFor(t, ran, "fn to run")
				if err := loadCause(&cause); err != c.cause {
					t.Fatalf("release after ctx was done ran fn with cause %v; want %v", err, c.cause)
				}
				if n := runs.Load(); n != 1 {
					t.Fatalf("WrapOnDoneCause(...) ran fn %d times; want 1", n)
				}
			}
		})
	}
}

// TestCauseRacingCancel races release against the end of ctx. Either cause
// is correct, but if ctx was seen done before release was called, the cause
// must be ctx's. It counts how often each side won.
func TestCauseRacingCancel(t *testing.T) {
	const rounds = 2000
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var nilCause, ctxCause int
	for range rounds {
		ctx, cancel := context.WithCancelCause(context.Background())
		var cause atomic.Value
		var runs atomic.Int32
		fn, ran := recordCause(&cause, &runs)
		rel := release.WrapOnDoneCause(ctx, fn)
		start, canceled := make(chan struct{}), make(chan struct{})
		go func() {
			<-start
			cancel(errHungUp)
			close(canceled)
		}()
		close(start)
		doneBefore := ctx.Err() != nil
		rel()
		<-canceled
		waitFor(t, ran, "fn to run")
		switch err := loadCause(&cause); {
		case err == nil && doneBefore:
			t.Fatal("ctx was done before release was called, but fn got a nil cause")
		case err == nil:
			nilCause++
		case err == errHungUp:
			ctxCause++
		default:
			t.Fatalf("fn got cause %v; want nil or %v", err, errHungUp)
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("WrapOnDoneCause(...) ran fn %d times; want 1", n)
		}
	}
	t.Logf("%d races: release first (nil cause) %d times, ctx first (its cause) %d times", rounds, nilCause, ctxCause)
}

// neverDoneOverCause is a Context that can never be done, although the
// context it wraps was ended with a cause.
type neverDoneOverCause struct{ context.Context }

func (neverDoneOverCause) Done() <-chan struct{} { return nil }
func (neverDoneOverCause) Err() error            { return nil }

// TestCauseIsNilForNeverDoneCtxOverEndedOne checks that fn's cause follows
// ctx.Err(), not what ctx wraps: context.Cause on Go 1.25 reports the
// wrapped context's cause even while ctx.Err() is nil.
func TestCauseIsNilForNeverDoneCtxOverEndedOne(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	cancel(errHungUp)
	var got []error
	rel := release.WrapOnDoneCause(neverDoneOverCause{parent}, func(err error) { got = append(got, err) })
	rel()
	if len(got) != 1 || got[0] != nil {
		t.Fatalf("on a ctx that is never done, fn ran with causes %v; want once, with nil", got)
	}
}
