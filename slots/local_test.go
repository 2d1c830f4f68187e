package slots_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
	"go.uber.org/goleak"
)

// hangGuard bounds a wait that only a broken Local makes long.
const hangGuard = 30 * time.Second

// waitInLine is the function in which the goroutines of
// TestLocalNoGoroutinePerSlotOrWaiter wait, so that goleak can tell them
// from any goroutine Local might start.
func waitInLine(l *slots.Local, ctx context.Context, key string, limit int, done chan<- error) {
	_, rel, err := l.Acquire(ctx, key, limit)
	if err == nil {
		rel()
	}
	done <- err
}

// TestLocalNoGoroutinePerSlotOrWaiter holds 1,000 slots, half taken by
// TryAcquire and half handed to waiters, with 1,000 more callers waiting,
// all with cancelable contexts, and finds no goroutine but the waiting
// callers' own.
func TestLocalNoGoroutinePerSlotOrWaiter(t *testing.T) {
	const (
		keys    = 10
		perKey  = 100 // holders of each key, and waiters of each key
		holders = keys * perKey
	)
	ignore := goleak.IgnoreCurrent()
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, 1))
	defer cancel()

	var rels []func()
	done := make(chan error, 2*holders)
	for k := range keys {
		key := fmt.Sprint("k", k)
		for range perKey / 2 {
			_, rel, err := l.TryAcquire(ctx, key, perKey)
			if err != nil {
				t.Fatalf("TryAcquire(%q): %v", key, err)
			}
			rels = append(rels, rel)
		}
		for range perKey / 2 { // handed a slot at once, but through Acquire
			sctx, rel, err := l.Acquire(ctx, key, perKey)
			if err != nil || sctx == nil {
				t.Fatalf("Acquire(%q): %v", key, err)
			}
			rels = append(rels, rel)
		}
		for range perKey {
			go waitInLine(l, ctx, key, perKey, done)
		}
	}
	waitForLoad(t, l, keys, perKey, perKey)

	err := goleak.Find(ignore, goleak.IgnoreAnyFunction("github.com/ctxguard/release/slots_test.waitInLine"))
	if err != nil {
		msg := err.Error()
		t.Errorf("with %d slots held and %d callers waiting, found goroutines beyond the callers': %s", holders, holders, msg[:min(len(msg), 2000)])
	}
	for _, rel := range rels {
		rel()
	}
	for range holders {
		if err := <-done; err != nil {
			t.Errorf("waiter: Acquire: %v", err)
		}
	}
}

// waitForLoad polls until every key k0...k(keys-1) has inUse holders and
// waiting waiters.
func waitForLoad(t *testing.T, l *slots.Local, keys, inUse, waiting int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for k := 0; k < keys; {
		loads, err := l.Load(context.Background(), fmt.Sprint("k", k))
		if err != nil {
			t.Fatal(err)
		}
		if loads[0].InUse == inUse && loads[0].Waiting == waiting {
			k++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("Load = %+v after %v; want InUse %d, Waiting %d", loads[0], hangGuard, inUse, waiting)
		}
		time.Sleep(time.Millisecond)
	}
}

type ctxKey struct{}

// TestLocalMaxWaitersFor checks that MaxWaitersFor sets a key's cap, that
// 0 or less falls back to MaxWaiters, that it is asked only by Acquire
// calls that find the key full, and without Local's lock held (it may
// call back into the Local).
func TestLocalMaxWaitersFor(t *testing.T) {
	var l *slots.Local
	var asked sync.Map // key -> number of calls
	l = slots.NewLocal(slots.LocalOptions{
		MaxWaiters: 2,
		MaxWaitersFor: func(key string, limit int) int {
			n, _ := asked.LoadOrStore(key, new(int))
			*n.(*int)++
			if _, err := l.InUse(context.Background(), key); err != nil { // deadlocks if called under the lock
				t.Errorf("InUse from MaxWaitersFor: %v", err)
			}
			if key == "one" {
				return 1
			}
			return 0
		},
	})
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	for key, want := range map[string]int{"one": 1, "default": 2} {
		_, rel, err := l.Acquire(ctx, key, 1) // free: MaxWaitersFor not asked
		if err != nil {
			t.Fatal(err)
		}
		var waiters []chan error
		for i := range want {
			done := make(chan error, 1)
			go waitInLine(l, ctx, key, 1, done)
			waiters = append(waiters, done)
			waitLoad(t, l, key, 1, i+1)
		}
		hctx, stop := context.WithTimeout(ctx, hangGuard) // ends a wait only if broken
		_, _, err = l.Acquire(hctx, key, 1)
		stop()
		if !errors.Is(err, slots.ErrQueueFull) {
			t.Errorf("Acquire(%q) beyond a cap of %d = %v; want ErrQueueFull", key, want, err)
		}
		n, _ := asked.Load(key)
		if got := *n.(*int); got != want+1 {
			t.Errorf("MaxWaitersFor(%q) called %d times; want %d, once per Acquire that found the key full", key, got, want+1)
		}
		rel()
		for _, done := range waiters {
			if err := <-done; err != nil {
				t.Errorf("waiter of %q: %v", key, err)
			}
		}
	}
}

// waitLoad polls until key has inUse holders and waiting waiters.
func waitLoad(t *testing.T, l *slots.Local, key string, inUse, waiting int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for {
		loads, err := l.Load(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if loads[0].InUse == inUse && loads[0].Waiting == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Load = %+v after %v; want InUse %d, Waiting %d", loads[0], hangGuard, inUse, waiting)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLocalMisuse checks the panics and errors of bad input: a nil ctx
// and a negative MaxWaiters panic with "slots: ", and an error quotes at
// most a short prefix of a long key.
func TestLocalMisuse(t *testing.T) {
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	var nilCtx context.Context
	cases := map[string]func(){
		"TryAcquire": func() { l.TryAcquire(nilCtx, "k", 1) },

		"Acquire":  func() { l.Acquire(nilCtx, "k", 1) },
		"InUse":    func() { l.InUse(nilCtx, "k") },
		"Load":     func() { l.Load(nilCtx, "k") },
		"NewLocal": func() { slots.NewLocal(slots.LocalOptions{MaxWaiters: -1}) },
	}
	for name, f := range cases {
		msg := panicMessage(f)
		if !strings.HasPrefix(msg, "slots: ") {
			t.Errorf("%s: panic %q; want a panic starting %q", name, msg, "slots: ")
		}
	}

	long := strings.Repeat("é", 1000)
	_, _, err := l.TryAcquire(context.Background(), long, 0)
	if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), long[:60]) {
		t.Errorf("TryAcquire(%d-byte key, 0) = %q; want an error quoting a short prefix of the key", len(long), err)
	}
	_, rel, err := l.TryAcquire(context.Background(), long, 1)
	if err != nil {
		t.Fatalf("TryAcquire(%d-byte key, 1): %v", len(long), err)
	}
	defer rel()
	_, _, err = l.TryAcquire(context.Background(), long, 1)
	if !errors.Is(err, slots.ErrFull) || len(err.Error()) > 200 || !strings.Contains(err.Error(), long[:60]) {
		t.Errorf("TryAcquire of a full %d-byte key = %q; want ErrFull quoting a short prefix of the key", len(long), err)
	}
}

// panicMessage returns what f panicked with, as a string, or "" if it did
// not panic.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestLocalZeroValue checks that a zero Local works, with no cap on
// waiters.
func TestLocalZeroValue(t *testing.T) {
	var l slots.Local
	defer l.Close()
	_, rel, err := l.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatalf("zero Local: TryAcquire: %v", err)
	}
	rel()
	if n, err := l.InUse(context.Background(), "k"); n != 0 || err != nil {
		t.Fatalf("zero Local: InUse after release = %d, %v; want 0, nil", n, err)
	}
}

// lateCtx is a Context of its own kind (not from the context package)
// whose end reaches the functions registered through its AfterFunc method
// only when runAfterFuncs is called: so a slot's context, made from it,
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

// A slot's context ends with the cause of ctx's end when ctx ends first,
// even when that end reaches the slot's context late (ctx is a Context of
// another kind, whose AfterFunc runs later) and the release comes first.
func TestLocalSlotContextEndsWithTheCauseOfCtxsEnd(t *testing.T) {
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	ctx := newLateCtx()
	sctx, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx.end(context.DeadlineExceeded)
	rel()
	if got := context.Cause(sctx); got != context.DeadlineExceeded {
		t.Errorf("context.Cause(slot's context) = %v after ctx ended with %v and then release was called; want %v", got, context.DeadlineExceeded, context.DeadlineExceeded)
	}
	ctx.runAfterFuncs()
	if n, _ := l.InUse(context.Background(), "k"); n != 0 {
		t.Errorf("InUse = %d after the release; want 0", n)
	}
}

// Close ends the context of every slot still held, with cause ErrClosed,
// whichever slots were released before it: the newest, one in the middle.
func TestLocalCloseEndsEverySlotStillHeld(t *testing.T) {
	l := slots.NewLocal(slots.LocalOptions{})
	var ctxs []context.Context
	var rels []func()
	for range 4 {
		sctx, rel, err := l.TryAcquire(context.Background(), "k", 4)
		if err != nil {
			t.Fatal(err)
		}
		ctxs, rels = append(ctxs, sctx), append(rels, rel)
	}
	rels[3]() // the newest
	rels[1]() // one in the middle
	l.Close()
	for _, i := range []int{0, 2} {
		if got := context.Cause(ctxs[i]); got != slots.ErrClosed {
			t.Errorf("slot %d, still held at Close: context.Cause = %v; want ErrClosed", i, got)
		}
	}
}
