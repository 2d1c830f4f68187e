package slotstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
)

// A result is what one Acquire or TryAcquire call returned.
type result struct {
	ctx context.Context
	rel func()
	err error
}

// check fails t unless r is a success (a context and a release, no error)
// or a failure (nil, nil, err), as the interface promises.
func (r result) check(t *testing.T, call string) {
	t.Helper()
	if r.err == nil && (r.ctx == nil || r.rel == nil) {
		t.Fatalf("%s returned ctx %v, release nil: %t, err nil; want both set", call, r.ctx, r.rel == nil)
	}
	if r.err != nil && (r.ctx != nil || r.rel != nil) {
		t.Fatalf("%s returned err %v with a non-nil ctx or release; want nil, nil", call, r.err)
	}
}

// mustTry takes a slot with TryAcquire and fails t if it cannot.
func mustTry(t *testing.T, l slots.Limiter, ctx context.Context, key string, limit int) result {
	t.Helper()
	sctx, rel, err := l.TryAcquire(ctx, key, limit)
	r := result{sctx, rel, err}
	r.check(t, "TryAcquire")
	if err != nil {
		t.Fatalf("TryAcquire(%q, %d): %v; want a slot", key, limit, err)
	}
	return r
}

// wantFull fails t unless TryAcquire refuses with an error wrapping
// slots.ErrFull.
func wantFull(t *testing.T, l slots.Limiter, ctx context.Context, key string, limit int, why string) {
	t.Helper()
	sctx, rel, err := l.TryAcquire(ctx, key, limit)
	result{sctx, rel, err}.check(t, "TryAcquire")
	if err == nil {
		rel()
		t.Fatalf("TryAcquire(%q, %d) took a slot %s; want ErrFull", key, limit, why)
	}
	if !errors.Is(err, slots.ErrFull) {
		t.Fatalf("TryAcquire(%q, %d) = %v %s; want ErrFull", key, limit, err, why)
	}
}

// acquireAsync starts Acquire on a goroutine of its own and returns the
// channel on which its result arrives.
func acquireAsync(l slots.Limiter, ctx context.Context, key string, limit int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		sctx, rel, err := l.Acquire(ctx, key, limit)
		ch <- result{sctx, rel, err}
	}()
	return ch
}

// recv waits for the result of an Acquire, at most patience.
func recv(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		r.check(t, "Acquire")
		return r
	case <-time.After(patience):
		t.Fatalf("%s: Acquire has not returned after %v", what, patience)
		panic("unreachable")
	}
}

// recvSlot waits for an Acquire that must succeed and returns its slot.
func recvSlot(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	r := recv(t, ch, what)
	if r.err != nil {
		t.Fatalf("%s: Acquire: %v; want a slot", what, r.err)
	}
	return r
}

// notReturned fails t if the Acquire behind ch has already returned.
func notReturned(t *testing.T, ch <-chan result, what string) {
	t.Helper()
	select {
	case r := <-ch:
		if r.rel != nil {
			r.rel()
		}
		t.Fatalf("%s: Acquire returned (err %v); want it still waiting", what, r.err)
	default:
	}
}

// returned waits for wg, at most patience, and reports whether it is done.
// The goroutines it gives up on must not use t after the test: they touch
// it only while the test's ctx is live, and the test cancels it first.
func returned(wg *sync.WaitGroup) bool {
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return true
	case <-time.After(patience):
		return false
	}
}

// waitAll waits for wg, at most patience, and fails t, naming what, if it
// must give up.
func waitAll(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	if !returned(wg) {
		t.Fatalf("%s: not all returned after %v", what, patience)
	}
}

// stopAll cancels the goroutines of wg and waits for them, at most
// patience: deferred, it ends a test that failed early without hanging
// it.
func stopAll(t *testing.T, cancel context.CancelFunc, wg *sync.WaitGroup, what string) {
	t.Helper()
	cancel()
	if !returned(wg) {
		t.Errorf("%s: not all returned %v after their ctx ended", what, patience)
	}
}

// eventually polls cond until it returns "" (met), at most patience, and
// fails t with cond's last answer otherwise.
func eventually(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", patience, msg)
		}
		time.Sleep(pollEvery)
	}
}

// loadIs polls until l's Load of key reports inUse holders and waiting
// waiters.
func loadIs(t *testing.T, l slots.Limiter, key string, inUse, waiting int) {
	t.Helper()
	want := slots.Load{Key: key, InUse: inUse, Waiting: waiting}
	eventually(t, func() string {
		loads, err := l.Load(context.Background(), key)
		if err != nil {
			return fmt.Sprintf("Load(%q): %v", key, err)
		}
		if len(loads) != 1 || loads[0] != want {
			return fmt.Sprintf("Load(%q) = %+v; want [%+v]", key, loads, want)
		}
		return ""
	})
}

// inUseIs polls until l's InUse of key is n.
func inUseIs(t *testing.T, l slots.Limiter, key string, n int) {
	t.Helper()
	eventually(t, func() string {
		got, err := l.InUse(context.Background(), key)
		if err != nil {
			return fmt.Sprintf("InUse(%q): %v", key, err)
		}
		if got != n {
			return fmt.Sprintf("InUse(%q) = %d; want %d", key, got, n)
		}
		return ""
	})
}

// done waits for ctx to be done, at most patience.
func done(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(patience):
		t.Fatalf("%s: slot context not done after %v", what, patience)
	}
}

// wantCause fails t unless ctx is done now, with cause want.
func wantCause(t *testing.T, ctx context.Context, want error, what string) {
	t.Helper()
	if ctx.Err() == nil {
		t.Fatalf("%s: slot context not done; want done with cause %v", what, want)
	}
	if got := context.Cause(ctx); !errors.Is(got, want) {
		t.Fatalf("%s: context.Cause(slot ctx) = %v; want %v", what, got, want)
	}
}
