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
// on ctx's goroutine would end the process. If the first byte has bit 1
// set, the guard comes from WrapOnDoneCause, and fn's cause must be ctx's
// whenever ctx was done before any call of release.
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
		{2, opCancel, opRelease},
		{2, opAdvance, opAdvance, opAdvance, opSettle, opConcurrentRelease},
		{3, opConcurrentRelease, opCancel},
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
	withCause := len(ops) > 0 && ops[0]&2 != 0
	ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
	defer cancel()
	var runs, panicked atomic.Int32
	var finished, calledBeforeDone atomic.Bool
	var cause atomic.Value
	fn := func() {
		defer finished.Store(true)
		runs.Add(1)
		if panics {
			panic("fn failed")
		}
	}
	var rel func()
	if withCause {
		rel = release.WrapOnDoneCause(ctx, func(err error) {
			cause.Store(&err)
			fn()
		})
	} else {
		rel = release.WrapOnDone(ctx, fn)
	}
	// call releases and checks what a caller of release may rely on.
	call := func() {
		if ctx.Err() == nil {
			calledBeforeDone.Store(true)
		}
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
	if withCause {
		switch err := *cause.Load().(*error); {
		case err == nil && !calledBeforeDone.Load():
			t.Errorf("ctx was done before any call of release, but fn got a nil cause (ops %v)", ops)
		case err != nil && err != context.Canceled && err != context.DeadlineExceeded:
			t.Errorf("fn got cause %v; want nil, or ctx's cause (ops %v)", err, ops)
		}
	}
	wantPanics := int32(0)
	if panics {
		wantPanics = 1
	}
	if n := panicked.Load(); n != wantPanics {
		t.Errorf("release passed on %d panics; want %d (ops %v)", n, wantPanics, ops)
	}
}
