package slots_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/ctxguard/release/slots"
)

// A stallCtx is a cancelable context whose first call of Done blocks until
// resume is called. A waiting Acquire first calls Done as it starts to
// wait, once it has joined the key's line: its goroutine then stands still
// in the line, as one descheduled at that point would, and a release, a
// cancellation or a Close can come before it wakes. Later calls of Done,
// from any goroutine, return at once. Made inside a synctest bubble, the
// stalled goroutine is durably blocked.
type stallCtx struct {
	context.Context // from context.WithCancel
	cancel          context.CancelFunc

	called     atomic.Bool
	stalled    chan struct{} // closed when the first call of Done starts to block
	resumed    chan struct{} // closed by resume
	resumeOnce sync.Once
}

func newStallCtx(parent context.Context) *stallCtx {
	ctx, cancel := context.WithCancel(parent)
	return &stallCtx{Context: ctx, cancel: cancel, stalled: make(chan struct{}), resumed: make(chan struct{})}
}

func (c *stallCtx) Done() <-chan struct{} {
	if c.called.CompareAndSwap(false, true) {
		close(c.stalled)
		<-c.resumed
	}
	return c.Context.Done()
}

// resume lets the first call of Done return. It is safe to call more than
// once.
func (c *stallCtx) resume() {
	c.resumeOnce.Do(func() { close(c.resumed) })
}

// waitInLineStalled starts an Acquire of key with limit 1 on ctx, in a
// goroutine of its own that, given a slot, releases it at once, and sends
// Acquire's error on the returned channel. Called inside a synctest bubble,
// it returns once that goroutine stands still in ctx's first call of Done,
// and fails t unless it does so in the key's line.
func waitInLineStalled(t *testing.T, l *slots.Local, ctx *stallCtx, key string) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, rel, err := l.Acquire(ctx, key, 1)
		if err == nil {
			rel()
		}
		done <- err
	}()
	synctest.Wait()
	select {
	case <-ctx.stalled:
	default:
		t.Fatal("Acquire returned or blocked without calling its ctx's Done")
	}
	if got := load(t, l, key); got.Waiting != 1 {
		t.Fatalf("Load = %+v with the stalled Acquire started; want it in the line, Waiting 1", got)
	}
	return done
}

// heldWithAStalledWaiter returns, inside a synctest bubble, a Local whose
// key "k" (limit 1) is held, with h its release, and a waiter in its line
// stalled on ctx, as waitInLineStalled leaves it. Cleanups resume and
// cancel ctx, then close the Local.
func heldWithAStalledWaiter(t *testing.T) (l *slots.Local, h func(), ctx *stallCtx, waiter <-chan error) {
	t.Helper()
	l = slots.NewLocal(slots.LocalOptions{})
	t.Cleanup(func() { l.Close() })
	_, h, err := l.TryAcquire(t.Context(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx = newStallCtx(t.Context())
	t.Cleanup(ctx.cancel)
	t.Cleanup(ctx.resume)
	return l, h, ctx, waitInLineStalled(t, l, ctx, "k")
}

// returned reports the error sent on ch, and whether one was sent. Called
// after synctest.Wait, it tells an Acquire that has returned from one that
// is blocked.
func returned(ch <-chan error) (err error, ok bool) {
	select {
	case err := <-ch:
		return err, true
	default:
		return nil, false
	}
}

// A release hands the slot to the oldest waiter whose ctx is live: a
// waiter ahead of it whose ctx has ended leaves the line without a slot,
// even while its goroutine has not yet woken to leave by itself. The
// release alone serves the live waiter, which returns before the waiter
// whose ctx ended moves.
func TestLocalReleasePassesOverAWaiterWhoseCtxEnded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, h, gone, first := heldWithAStalledWaiter(t)
		ctx := t.Context()

		unblock := make(chan struct{})
		defer close(unblock)
		second := make(chan error, 1)
		go func() {
			_, rel, err := l.Acquire(ctx, "k", 1)
			second <- err
			if err == nil {
				<-unblock
				rel()
			}
		}()
		synctest.Wait()
		if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1, Waiting: 2}); got != want {
			t.Fatalf("Load = %+v with two waiters; want %+v", got, want)
		}

		gone.cancel()
		h()
		synctest.Wait()
		err, ok := returned(second)
		if !ok {
			t.Fatalf("live waiter behind a waiter whose ctx ended: Acquire has not returned after the release (Load %+v); want the release to hand it the slot", load(t, l, "k"))
		}
		if err != nil {
			t.Fatalf("live waiter behind a waiter whose ctx ended: Acquire = %v; want a slot", err)
		}
		if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1}); got != want {
			t.Errorf("after the release, Load = %+v; want %+v, the slot held by the live waiter", got, want)
		}

		gone.resume()
		synctest.Wait()
		if err, ok := returned(first); !ok || !errors.Is(err, context.Canceled) {
			t.Errorf("waiter whose ctx ended, once resumed: Acquire = %v (returned: %v); want context.Canceled", err, ok)
		}
		if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1}); got != want {
			t.Errorf("after the waiter whose ctx ended left, Load = %+v; want %+v", got, want)
		}
	})
}

// A waiter handed a slot that Close takes back before its Acquire returns
// gets ErrClosed, not a slot and not a context error: its ctx is live, and
// it is Close that ended the wait.
func TestLocalCloseAfterAHandOffReturnsErrClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, h, wctx, waiter := heldWithAStalledWaiter(t)

		h() // hands the slot to the waiter, whose goroutine stands still
		if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1}); got != want {
			t.Fatalf("after the release, Load = %+v; want %+v, the slot handed to the waiter", got, want)
		}
		l.Close()
		wctx.resume()
		synctest.Wait()
		err, ok := returned(waiter)
		switch {
		case !ok:
			t.Fatal("waiter whose slot Close took back: Acquire has not returned")
		case !errors.Is(err, slots.ErrClosed):
			t.Errorf("waiter whose slot Close took back, ctx live: Acquire = %v; want ErrClosed", err)
		}
		if wctx.Err() != nil {
			t.Errorf("waiter's ctx ended (%v); the test needs it live", wctx.Err())
		}
	})
}
