package release_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctxguard/release"
)

// Operations of FuzzWrapOnDone, one per byte (the byte modulo opCount).
const (
	opRelease           = iota // call release on the fuzz goroutine
	opCancel                   // end ctx
	opConcurrentRelease        // call release on a new goroutine
	opAdvance                  // let a third of the deadline pass
	opSettle                   // wait until every goroutine is blocked or done
	opCount
)

// fuzzDeadline is ctx's timeout; three opAdvance pass it.
const fuzzDeadline = 30 * time.Millisecond

// FuzzWrapOnDone runs a sequence of operations on one guard and checks that
// fn runs exactly once, and that every call of release returns only after
// fn has. If the first byte is odd, fn panics; the sequence then starts
// with a release, which must pass the panic to its caller, since a panic
// on ctx's goroutine would end the process.
func FuzzWrapOnDone(f *testing.F) {
	for _, seed := range [][]byte{
		{},
		{opRelease},
		{opCancel, opSettle, opRelease},
		{opConcurrentRelease, opConcurrentRelease, opRelease},
		{opConcurrentRelease, opCancel, opConcurrentRelease},
		{opAdvance, opAdvance, opAdvance, opSettle, opRelease},
		{opAdvance, opConcurrentRelease, opAdvance, opCancel, opAdvance},
		{1, opConcurrentRelease, opCancel, opRelease},
		{1, opAdvance, opAdvance, opAdvance, opAdvance},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		synctest.Test(t, func(t *testing.T) { runOps(t, ops) })
	})
}

func runOps(t *testing.T, ops []byte) {
	panics := len(ops) > 0 && ops[0]%2 == 1
	ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
	defer cancel()
	var runs, panicked atomic.Int32
	var finished atomic.Bool
	rel := release.WrapOnDone(ctx, func() {
		defer finished.Store(true)
		runs.Add(1)
		if panics {
			panic("fn failed")
		}
	})
	// call releases and checks what a caller of release may rely on.
	call := func() {
		defer func() {
			if r := recover(); r != nil {
				panicked.Add(1)
			}
			if !finished.Load() {
				t.Errorf("release returned before fn had returned (ops %v)", ops)
			}
		}()
		rel()
	}
	if panics {
		call()
		ops = ops[1:]
	}
	for _, op := range ops {
		switch op % opCount {
		case opRelease:
			call()
		case opCancel:
			cancel()
		case opConcurrentRelease:
			go call()
		case opAdvance:
			time.Sleep(fuzzDeadline / 3)
		case opSettle:
			synctest.Wait()
		}
	}
	call()
	synctest.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("WrapOnDone(...) ran fn %d times; want 1 (ops %v)", n, ops)
	}
	wantPanics := int32(0)
	if panics {
		wantPanics = 1
	}
	if n := panicked.Load(); n != wantPanics {
		t.Errorf("release passed on %d panics; want %d (ops %v)", n, wantPanics, ops)
	}
}
