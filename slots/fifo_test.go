package slots_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctxguard/release/slots"
)

// TestLocalFIFO lines up waiters with different limits, each one joining
// only once the previous is durably blocked (synctest.Wait), so that the
// order they joined in is certain, and then frees slots one at a time,
// checking after each exactly which waiters were served. The key has one
// holder of limit 1; the waiters' limits are 1, 3, 1, 2, 1. Waiter 1 (limit
// 3) waits behind waiter 0 although 1 holder is fewer than 3; once waiter 0
// is served, waiter 1 is too; waiter 3 (limit 2) is served only with
// waiter 2 ahead of it, and waiter 4 only last.
func TestLocalFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := slots.NewLocal(slots.LocalOptions{})
		defer l.Close()
		ctx := t.Context()
		limits := []int{1, 3, 1, 2, 1}

		_, h, err := l.TryAcquire(ctx, "k", 1)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var served []int
		free := make([]chan struct{}, len(limits)) // closed to make waiter i release
		for i, limit := range limits {
			free[i] = make(chan struct{})
			go func() {
				_, rel, err := l.Acquire(ctx, "k", limit)
				if err != nil {
					if !errors.Is(err, slots.ErrClosed) { // else the test failed and closed l
						t.Errorf("waiter %d: Acquire: %v", i, err)
					}
					return
				}
				mu.Lock()
				served = append(served, i)
				mu.Unlock()
				select {
				case <-free[i]:
				case <-ctx.Done(): // the test failed
				}
				rel()
			}()
			synctest.Wait()
		}
		if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1, Waiting: len(limits)}); got != want {
			t.Fatalf("Load = %+v; want %+v: waiter 1, limit 3, must wait behind waiter 0", got, want)
		}
		steps := []struct {
			free func()
			want string // the waiters served so far
		}{
			{h, "[0 1]"},
			{func() { close(free[0]) }, "[0 1]"},
			{func() { close(free[1]) }, "[0 1 2 3]"},
			{func() { close(free[2]) }, "[0 1 2 3]"},
			{func() { close(free[3]) }, "[0 1 2 3 4]"},
			{func() { close(free[4]) }, "[0 1 2 3 4]"},
		}
		for i, step := range steps {
			step.free()
			synctest.Wait()
			mu.Lock()
			got := slices.Clone(served)
			mu.Unlock()
			slices.Sort(got) // those served in one step may record themselves in any order
			if fmt.Sprint(got) != step.want {
				t.Fatalf("after step %d, served %v; want %s", i, got, step.want)
			}
		}
	})
}

// load returns l's Load of key.
func load(t *testing.T, l *slots.Local, key string) slots.Load {
	t.Helper()
	loads, err := l.Load(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return loads[0]
}

// TestLocalDeadlines checks, on synctest's clock, that a waiter whose
// deadline passes leaves the line with context.DeadlineExceeded, letting
// the waiter behind it be served, and that a slot whose caller's deadline
// passes is freed, its context ending with cause DeadlineExceeded.
func TestLocalDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := slots.NewLocal(slots.LocalOptions{})
		defer l.Close()
		hctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		sctx, h, err := l.TryAcquire(hctx, "k", 1)
		if err != nil {
			t.Fatal(err)
		}
		defer h()
		wctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		first := make(chan error, 1)
		go func() {
			//lostrelease:ignore the call must fail at its deadline
			_, _, err := l.Acquire(wctx, "k", 1)
			first <- err
		}()
		synctest.Wait()
		second := make(chan error, 1)
		go func() {
			_, rel, err := l.Acquire(t.Context(), "k", 1)
			if err == nil {
				rel()
			}
			second <- err
		}()
		synctest.Wait()

		time.Sleep(2 * time.Second)
		synctest.Wait()
		if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiter past its deadline: Acquire = %v; want DeadlineExceeded", err)
		}
		if got, want := load(t, l, "k"), (slots.Load{Key: "k", InUse: 1, Waiting: 1}); got != want {
			t.Errorf("after the first waiter's deadline, Load = %+v; want %+v", got, want)
		}

		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := context.Cause(sctx); !errors.Is(got, context.DeadlineExceeded) {
			t.Errorf("slot past its caller's deadline: cause %v; want DeadlineExceeded", got)
		}
		if err := <-second; err != nil {
			t.Errorf("second waiter: Acquire = %v; want the slot freed by the deadline", err)
		}
		if got, want := load(t, l, "k"), (slots.Load{Key: "k"}); got != want {
			t.Errorf("after every deadline, Load = %+v; want %+v", got, want)
		}
	})
}
