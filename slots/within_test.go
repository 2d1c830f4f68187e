package slots_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctxguard/release/slots"
	"go.uber.org/goleak"
)

// A within is the outcome of one AcquireWithin call, and when it came.
type within struct {
	ctx context.Context
	rel func()
	err error
	at  time.Time
}

// acquireWithinAsync starts AcquireWithin on a goroutine of its own and
// returns the channel on which its outcome arrives.
func acquireWithinAsync(ctx context.Context, l slots.Limiter, key string, limit int, wait time.Duration) <-chan within {
	ch := make(chan within, 1)
	go func() {
		sctx, rel, err := slots.AcquireWithin(ctx, l, key, limit, wait)
		ch <- within{sctx, rel, err, time.Now()}
	}()
	return ch
}

// TestAcquireWithinWaitsExactlyWait checks, on synctest's clock, that
// AcquireWithin is still waiting 1 ns before wait has passed, and returns
// at wait exactly with an error that wraps ErrWaitTimeout and ErrFull, not
// ErrQueueFull, and names the key and the wait; and that it has left the
// line by then.
func TestAcquireWithinWaitsExactlyWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const wait = 2 * time.Second
		l := slots.NewLocal(slots.LocalOptions{})
		defer l.Close()
		_, h, err := l.TryAcquire(t.Context(), "user:1", 1)
		if err != nil {
			t.Fatal(err)
		}
		defer h()

		start := time.Now()
		ch := acquireWithinAsync(t.Context(), l, "user:1", 1, wait)
		synctest.Wait()
		if got, want := load(t, l, "user:1"), (slots.Load{Key: "user:1", InUse: 1, Waiting: 1}); got != want {
			t.Fatalf("while AcquireWithin waits, Load = %+v; want %+v", got, want)
		}
		time.Sleep(wait - time.Nanosecond)
		synctest.Wait()
		select {
		case r := <-ch:
			t.Fatalf("AcquireWithin returned (err %v) after %v; want it waiting until %v", r.err, r.at.Sub(start), wait)
		default:
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		r := <-ch
		if r.ctx != nil || r.rel != nil {
			t.Fatalf("AcquireWithin after its wait returned a slot (err %v); want nil, nil", r.err)
		}
		if !errors.Is(r.err, slots.ErrWaitTimeout) || !errors.Is(r.err, slots.ErrFull) || errors.Is(r.err, slots.ErrQueueFull) || errors.Is(r.err, context.DeadlineExceeded) {
			t.Errorf("AcquireWithin after its wait = %v; want an error matching ErrWaitTimeout and ErrFull only", r.err)
		}
		if got, want := r.err.Error(), `slots: no free slot within 2s for key "user:1"`; got != want {
			t.Errorf("AcquireWithin after its wait = %q; want %q", got, want)
		}
		if d := r.at.Sub(start); d != wait {
			t.Errorf("AcquireWithin returned after %v; want %v exactly", d, wait)
		}
		if got, want := load(t, l, "user:1"), (slots.Load{Key: "user:1", InUse: 1}); got != want {
			t.Errorf("after AcquireWithin gave up, Load = %+v; want %+v", got, want)
		}
	})
}

// TestAcquireWithinSlotOutlivesWait checks, on synctest's clock, that a
// slot AcquireWithin returns, at once or after waiting, is still held long
// after wait has passed, and ends only with its caller's ctx, with its
// cause, freeing the slot.
func TestAcquireWithinSlotOutlivesWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const wait = time.Second
		l := slots.NewLocal(slots.LocalOptions{})
		defer l.Close()
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)

		at, relAt, err := slots.AcquireWithin(ctx, l, "k", 2, wait)
		if err != nil {
			t.Fatalf("AcquireWithin of a free key: %v", err)
		}
		defer relAt()
		_, h, err := l.TryAcquire(t.Context(), "k", 2)
		if err != nil {
			t.Fatal(err)
		}
		ch := acquireWithinAsync(ctx, l, "k", 2, wait)
		synctest.Wait()
		time.Sleep(wait / 2)
		h()
		r := <-ch
		if r.err != nil {
			t.Fatalf("AcquireWithin of a key freed during the wait: %v", r.err)
		}
		defer r.rel()

		time.Sleep(10 * wait)
		synctest.Wait()
		for i, sctx := range []context.Context{at, r.ctx} {
			if err := sctx.Err(); err != nil {
				t.Fatalf("slot %d: context done %v after its wait ended: %v; want it held until ctx ends", i, 10*wait, context.Cause(sctx))
			}
		}
		if n, _ := l.InUse(t.Context(), "k"); n != 2 {
			t.Fatalf("InUse = %d %v after the wait; want 2", n, 10*wait)
		}
		hangUp := errors.New("client hung up")
		cancel(hangUp)
		synctest.Wait()
		for i, sctx := range []context.Context{at, r.ctx} {
			if got := context.Cause(sctx); got != hangUp {
				t.Errorf("slot %d: cause %v after ctx ended; want %v", i, got, hangUp)
			}
		}
		if n, _ := l.InUse(t.Context(), "k"); n != 0 {
			t.Errorf("InUse = %d after ctx ended; want 0", n)
		}
	})
}

// TestAcquireWithinReturnsAcquireErrors checks that every error but the
// end of the wait is Acquire's own, with nil results: a closed Local, bad
// arguments, a full queue, a ctx done before or during the wait, a ctx
// deadline before wait, and a Close during the wait.
func TestAcquireWithinReturnsAcquireErrors(t *testing.T) {
	const wait = time.Minute
	tests := []struct {
		name  string
		check func(t *testing.T, l *slots.Local, ctx context.Context) error // returns AcquireWithin's error
		want  func(error) bool
	}{
		{"closed", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			l.Close()
			return acquireWithinErr(ctx, l, "k", 1, wait)
		}, func(err error) bool { return err == slots.ErrClosed }},
		{"empty key", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			return acquireWithinErr(ctx, l, "", 1, wait)
		}, sameText(`slots: empty key`)},
		{"limit 0", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			return acquireWithinErr(ctx, l, "k", 0, wait)
		}, sameText(`slots: limit 0 for key "k" is less than 1`)},
		{"queue full", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			holdAndQueue(t, l, ctx, "k", 1)
			return acquireWithinErr(ctx, l, "k", 1, wait)
		}, func(err error) bool {
			return errors.Is(err, slots.ErrQueueFull) && !errors.Is(err, slots.ErrWaitTimeout) && err.Error() == `slots: too many waiters for key "k"`
		}},
		{"ctx done before", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			done, cancel := context.WithCancel(ctx)
			cancel()
			return acquireWithinErr(done, l, "k", 1, wait)
		}, func(err error) bool { return err == context.Canceled }},
		{"ctx done during", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			holdAndQueue(t, l, ctx, "k", 0)
			wctx, cancel := context.WithCancel(ctx)
			ch := acquireWithinAsync(wctx, l, "k", 1, wait)
			synctest.Wait()
			cancel()
			return (<-ch).check(t)
		}, func(err error) bool { return err == context.Canceled }},
		{"ctx deadline before wait", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			holdAndQueue(t, l, ctx, "k", 0)
			dctx, cancel := context.WithTimeout(ctx, wait/2)
			defer cancel()
			return acquireWithinErr(dctx, l, "k", 1, wait)
		}, func(err error) bool { return err == context.DeadlineExceeded }},
		{"closed during", func(t *testing.T, l *slots.Local, ctx context.Context) error {
			holdAndQueue(t, l, ctx, "k", 0)
			ch := acquireWithinAsync(ctx, l, "k", 1, wait)
			synctest.Wait()
			l.Close()
			return (<-ch).check(t)
		}, func(err error) bool { return err == slots.ErrClosed }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := slots.NewLocal(slots.LocalOptions{MaxWaiters: 1})
				defer l.Close()
				if err := tt.check(t, l, t.Context()); !tt.want(err) {
					t.Errorf("AcquireWithin = %v (%T); want Acquire's error", err, err)
				}
			})
		})
	}
}

// acquireWithinErr calls AcquireWithin, which must fail, and returns its
// error.
func acquireWithinErr(ctx context.Context, l slots.Limiter, key string, limit int, wait time.Duration) error {
	sctx, rel, err := slots.AcquireWithin(ctx, l, key, limit, wait)
	if err == nil || sctx != nil || rel != nil {
		if rel != nil {
			rel()
		}
		return fmt.Errorf("got ctx %v, release %t, err %v; want an error and nil results", sctx, rel != nil, err)
	}
	return err
}

// check returns the error of a failed AcquireWithin, or an error saying
// that it did not fail as it should.
func (r within) check(t *testing.T) error {
	if r.err == nil || r.ctx != nil || r.rel != nil {
		if r.rel != nil {
			r.rel()
		}
		return fmt.Errorf("got ctx %v, release %t, err %v; want an error and nil results", r.ctx, r.rel != nil, r.err)
	}
	return r.err
}

// sameText returns a check that an error reads want.
func sameText(want string) func(error) bool {
	return func(err error) bool { return err != nil && err.Error() == want }
}

// holdAndQueue fills key with a holder of limit 1, and its line with
// waiters Acquire calls on goroutines of their own, which end with ctx.
func holdAndQueue(t *testing.T, l *slots.Local, ctx context.Context, key string, waiters int) {
	t.Helper()
	if _, _, err := l.TryAcquire(ctx, key, 1); err != nil { //lostrelease:ignore the slot ends with ctx, at the end of the test
		t.Fatal(err)
	}
	for range waiters {
		go l.Acquire(ctx, key, 1) //lostrelease:ignore the waiter ends with ctx
	}
	synctest.Wait()
}

// TestAcquireWithinZeroWaitIsTryAcquire checks that a wait of 0 or less
// takes a free slot and otherwise returns TryAcquire's ErrFull at once,
// without joining the line.
func TestAcquireWithinZeroWaitIsTryAcquire(t *testing.T) {
	for _, wait := range []time.Duration{0, -time.Second} {
		t.Run(fmt.Sprint(wait), func(t *testing.T) {
			l := slots.NewLocal(slots.LocalOptions{})
			defer l.Close()
			ctx := t.Context()
			_, rel, err := slots.AcquireWithin(ctx, l, "k", 1, wait)
			if err != nil {
				t.Fatalf("AcquireWithin(wait %v) of a free key: %v", wait, err)
			}
			defer rel()
			err = acquireWithinErr(ctx, l, "k", 1, wait)
			if !errors.Is(err, slots.ErrFull) || errors.Is(err, slots.ErrWaitTimeout) {
				t.Errorf("AcquireWithin(wait %v) of a full key = %v; want TryAcquire's ErrFull", wait, err)
			}
			if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1}); got != want {
				t.Errorf("Load = %+v; want %+v: a wait of %v must not join the line", got, want, wait)
			}
		})
	}
}

// lateLimiter is a Limiter whose Acquire takes a slot of l at once and
// then returns it only once proceed is closed, however its ctx ends
// meanwhile: a backend whose slot is on its way back as the wait runs
// out. It counts the calls of the releases it returns.
type lateLimiter struct {
	*slots.Local
	taken    chan struct{}
	proceed  chan struct{}
	released atomic.Int64
}

func (l *lateLimiter) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	sctx, rel, err := l.Local.TryAcquire(ctx, key, limit)
	close(l.taken)
	<-l.proceed
	if err != nil {
		return nil, nil, err
	}
	return sctx, func() { l.released.Add(1); rel() }, nil
}

// TestAcquireWithinReleasesASlotThatCameAsTheWaitRanOut makes a slot come
// back from Acquire just after the wait ran out, by construction:
// AcquireWithin must release it before it returns, and return
// ErrWaitTimeout.
func TestAcquireWithinReleasesASlotThatCameAsTheWaitRanOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const wait = time.Second
		l := &lateLimiter{Local: slots.NewLocal(slots.LocalOptions{}), taken: make(chan struct{}), proceed: make(chan struct{})}
		defer l.Close()
		ch := acquireWithinAsync(t.Context(), l, "k", 1, wait)
		<-l.taken
		time.Sleep(wait)
		synctest.Wait() // the timer has fired
		close(l.proceed)
		r := <-ch
		if r.err == nil {
			r.rel()
			t.Fatalf("AcquireWithin returned a slot that came after its wait; want ErrWaitTimeout")
		}
		if !errors.Is(r.err, slots.ErrWaitTimeout) || r.ctx != nil || r.rel != nil {
			t.Errorf("AcquireWithin = %v, release %t; want ErrWaitTimeout and nil results", r.err, r.rel != nil)
		}
		if n := l.released.Load(); n != 1 {
			t.Errorf("the slot that came late was released %d times before AcquireWithin returned; want 1", n)
		}
		if n, _ := l.InUse(t.Context(), "k"); n != 0 {
			t.Errorf("InUse = %d; want 0", n)
		}
	})
}

// TestAcquireWithinLeavesNothingBehind runs 60,000 AcquireWithin calls on
// one long-lived ctx, a third of them released slots and the rest errors
// (a full queue, an already-done ctx), with a wait of an hour that never
// passes: the heap must come back to where it was, within 256 KiB, and no
// goroutine may be left. A release or error path that kept its context
// registered on ctx, or its timer pending, keeps megabytes.
func TestAcquireWithinLeavesNothingBehind(t *testing.T) {
	const (
		calls = 60_000
		bound = 256 << 10
	)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l := slots.NewLocal(slots.LocalOptions{MaxWaiters: 1})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background()) // long-lived: never done until the end
	defer cancel()
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	_, h, err := l.TryAcquire(ctx, "full", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer h()
	waiter := acquireWithinAsync(ctx, l, "full", 1, time.Hour) // fills the line of "full"
	waitLoad(t, l, "full", 1, 1)
	cycle := func(i int) error {
		switch i % 3 {
		case 0:
			_, rel, err := slots.AcquireWithin(ctx, l, "free", 1, time.Hour)
			if err != nil {
				return err
			}
			rel()
		case 1:
			if err := acquireWithinErr(ctx, l, "full", 1, time.Hour); !errors.Is(err, slots.ErrQueueFull) {
				return err
			}
		case 2:
			if err := acquireWithinErr(done, l, "free", 1, time.Hour); err != context.Canceled {
				return err
			}
		}
		return nil
	}
	for i := range 300 { // warm up
		if err := cycle(i); err != nil {
			t.Fatal(err)
		}
	}
	before := heapAlloc()
	for i := range calls {
		if err := cycle(i); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	after := heapAlloc()
	runtime.KeepAlive(ctx) // ctx must be live at the measure: it is what would keep them
	if after > before+bound {
		t.Errorf("after %d AcquireWithin calls on one ctx, the heap is %d B larger; want at most %d B", calls, after-before, bound)
	}
	cancel()
	if r := <-waiter; !errors.Is(r.err, context.Canceled) {
		t.Errorf("waiter: %v; want context.Canceled", r.err)
	}
}
