package redisslot_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// acquireLog records the results a Hook hears of acquiring calls.
type acquireLog struct {
	mu  sync.Mutex
	evs []redisslot.AcquireEvent
}

func (g *acquireLog) add(ev redisslot.AcquireEvent) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.evs = append(g.evs, ev)
}

func (g *acquireLog) all() []redisslot.AcquireEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]redisslot.AcquireEvent(nil), g.evs...)
}

// acquireAndRelease calls Acquire, and releases what it returns.
func acquireAndRelease(ctx context.Context, l *redisslot.Limiter, key string, limit int) {
	if _, rel, _ := l.Acquire(ctx, key, limit); rel != nil {
		rel()
	}
}

// recoverFrom runs fn as net/http runs a handler, and returns what it panicked with.
func recoverFrom(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// Hooks and Stats, for a call whose Options callback panics (the panic
// reaches the caller, as Options says): the call returns no slot, so it
// counts none, and it is heard once, as an error; a caller it counted as
// waiting is counted as gone. Here MaxWaitersFor panics as an Acquire is
// about to join k's queue, k being full; then again, its caller's ctx
// ending just before (a deadline passing): an error still, not Canceled.
func TestAcquireWhoseCallbackPanicsCountsNoSlot(t *testing.T) {
	srv := redistest.Shared(t)
	var boom atomic.Bool
	var before func() // run by the panicking MaxWaitersFor, on the caller's goroutine
	f := newFixture(t, srv, redisslot.Options{MaxWaitersFor: func(string, int) int {
		if boom.Load() {
			if before != nil {
				before()
			}
			panic("test: caps not loaded")
		}
		return 0
	}})
	heard := &acquireLog{}
	f.l.AddHook(redisslot.Hook{AcquireEnded: heard.add})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	boom.Store(true)
	if v := recoverFrom(func() { acquireAndRelease(ctx, f.l, "k", 1) }); v == nil {
		t.Fatal("Acquire of a full key returned; want MaxWaitersFor's panic")
	}
	cctx, cancel := context.WithCancel(ctx)
	before = cancel
	if v := recoverFrom(func() { acquireAndRelease(cctx, f.l, "k", 1) }); v == nil {
		t.Fatal("Acquire of a full key returned; want MaxWaitersFor's panic")
	}
	boom.Store(false)
	st := f.l.Stats()
	if st.Held != 1 || st.Acquired != 1 || st.Waiting != 0 || st.Errors != 2 || st.Canceled != 0 {
		t.Errorf("after two Acquires that panicked beside one slot held: Stats Held %d, Acquired %d, Waiting %d, Errors %d, Canceled %d; want 1, 1, 0, 2, 0",
			st.Held, st.Acquired, st.Waiting, st.Errors, st.Canceled)
	}
	evs := heard.all()
	if len(evs) != 3 {
		t.Fatalf("the hook heard %+v; want the TryAcquire's slot, then the two Acquires that panicked", evs)
	}
	for _, ev := range evs[1:] {
		if ev.Result != redisslot.AcquireError || ev.Err == nil || !strings.HasPrefix(ev.Err.Error(), "redisslot:") {
			t.Errorf("the hook heard %+v of an Acquire that panicked; want an error that says so", ev)
		}
	}
	rel()
	eventually(t, "the slot's end is counted", func() bool { return f.l.Stats().Held == 0 })
}

// The same, for a caller about to wait for the fallback share of k while
// Redis cannot be reached: it must not stay counted as waiting.
func TestFallbackWaiterWhoseCallbackPanicsIsNotCountedAsWaiting(t *testing.T) {
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	c := fbClient(t, srv, p.Addr)
	var boom atomic.Bool
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return 1 },
		MaxWaitersFor: func(string, int) int {
			if boom.Load() {
				panic("test: caps not loaded")
			}
			return 0
		},
	})
	t.Cleanup(func() { _ = l.Close() })
	t.Cleanup(p.Thaw) // before Close: its frees get through
	warmUp(t, l)
	ctx := ctxWithTimeout(t)
	p.Freeze()
	_, rel := mustTry(t, l, ctx, "k", 4) // from the share: Redis cannot be reached
	defer rel()
	if !l.Stats().Degraded {
		t.Fatal("the fallback state is off with Redis cut off")
	}
	boom.Store(true)
	if v := recoverFrom(func() { acquireAndRelease(ctx, l, "k", 4) }); v == nil {
		t.Fatal("Acquire with k's share taken returned; want MaxWaitersFor's panic")
	}
	if st := l.Stats(); st.Waiting != 0 || st.Held != 1 {
		t.Errorf("after an Acquire that panicked about to wait for k's share: Stats Waiting %d, Held %d; want 0, 1", st.Waiting, st.Held)
	}
}
