// Package testfailures checks that a guard, discarded or held, is reported
// only on a path that can go on normally with the guard non-nil: not
// after a call that marks a test failed or ends it, nor one that ends the
// goroutine or the program, nor a helper whose every path does, nor where
// the status says the guard is nil (errors.Is and errors.As being true say
// err is not nil). The functions take *testing.T and the rest in a file
// that is not a _test.go file: that makes them test code all the same.
package testfailures

import (
	"context"
	"errors"
	"io/fs"
	"log"
	"os"
	"runtime"
	"testing"

	"failhelpers"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

func acquire(ctx context.Context) (func(), error) { // want acquire:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return release.WrapOnDone(ctx, func() {}), nil
}

// errorf fails on every path, in this package.
func errorf(t *testing.T, msg string) { // want errorf:"failsEveryPath"
	t.Helper()
	t.Error(msg)
}

// Not reported.

func discardedErrorsIs(t *testing.T, ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); !errors.Is(err, slots.ErrFull) {
		t.Errorf("TryAcquire = %v; want ErrFull", err)
	}
}

func discardedErrNil(t *testing.T, ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); err == nil {
		t.Fatal("TryAcquire took a slot; want an error")
	}
}

func discardedErrorsAs(t *testing.B, ctx context.Context, l slots.Limiter) {
	_, _, err := l.Acquire(ctx, "k", 1)
	var perr *fs.PathError
	if !errors.As(err, &perr) {
		t.Fatalf("Acquire = %v; want a *fs.PathError", err)
	}
}

func discardedCopy(t testing.TB, ctx context.Context, l slots.Limiter) {
	_, _, err := l.TryAcquire(ctx, "k", 1)
	full := errors.Is(err, slots.ErrFull)
	if !full {
		t.Error("want ErrFull")
	}
}

func discardedFailAndReturn(t *testing.F, ctx context.Context) {
	if _, err := acquire(ctx); err == nil {
		t.Fail()
		return
	}
}

func discardedSkip(t *testing.T, ctx context.Context) {
	_, err := acquire(ctx)
	if err == nil {
		t.Skip("a slot was free")
	}
}

// A bare call followed by a failure: the guard could only be had on a
// path where the test fails.
func bareThenFatal(t testing.TB, ctx context.Context, l slots.Limiter) { // want bareThenFatal:"failsEveryPath"
	l.TryAcquire(ctx, "", 1)
	t.Fatal("TryAcquire with an empty key returned")
}

func heldThenErrorf(t *testing.T, ctx context.Context, l slots.Limiter) {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if !errors.Is(err, slots.ErrFull) || rel != nil {
		t.Errorf("TryAcquire = %v; want ErrFull", err)
	}
}

func heldFailedThenReturn(t *testing.T, ctx context.Context) {
	rel, err := acquire(ctx)
	if err == nil {
		t.Error("acquire succeeded; want an error")
		return
	}
	if rel != nil {
		rel()
	}
}

func localHelper(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); err == nil {
		errorf(t, "acquire succeeded")
	}
}

func otherPackageHelpers(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); err == nil {
		failhelpers.Fatalf(t, "acquire succeeded")
	}
	if _, err := acquire(ctx); err == nil {
		failhelpers.Errorf(t, "acquire succeeded")
	}
	if _, err := acquire(ctx); err == nil {
		failhelpers.FailOrExit(t, 1)
	}
	if _, err := acquire(ctx); err == nil {
		failhelpers.ErrorTwice(t, "acquire succeeded")
	}
	if _, err := acquire(ctx); err == nil {
		failhelpers.Harness{T: t}.Fail("acquire succeeded")
	}
}

func errorPredicates(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); !failhelpers.IsRefused(err) {
		t.Errorf("acquire = %v; want connection refused", err)
	}
	if _, err := acquire(ctx); !failhelpers.IsPathError(err) {
		t.Errorf("acquire = %v; want a *fs.PathError", err)
	}
	if _, err := acquire(ctx); !failhelpers.Failed(err) {
		t.Error("acquire succeeded")
	}
}

func logFatal(ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); err == nil {
		log.Fatal("took a slot")
	}
}

func osExit(ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); err == nil {
		os.Exit(1)
	}
}

func goexit(ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); err == nil {
		runtime.Goexit()
	}
}

func panics(ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); err == nil {
		panic("took a slot")
	}
}

// Reported.

func errorNeverChecked(ctx context.Context, l slots.Limiter) error {
	_, _, err := l.TryAcquire(ctx, "k", 1) // want `returned by Limiter.TryAcquire is discarded`
	return err
}

func notInAFailure(ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); !errors.Is(err, slots.ErrFull) { // want `returned by Limiter.TryAcquire is discarded`
		log.Printf("TryAcquire = %v; want ErrFull", err)
	}
}

func onlyLogged(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); err == nil { // want `returned by acquire is discarded`
		t.Log("acquire succeeded")
	}
}

func failedOnTheOtherBranch(t *testing.T, ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); err != nil { // want `returned by Limiter.TryAcquire is discarded`
		t.Errorf("TryAcquire: %v", err)
	}
}

func failedBeforeTheCall(t *testing.T, ctx context.Context) { // want failedBeforeTheCall:"failsEveryPath"
	t.Error("failed already")
	acquire(ctx) // want `returned by acquire is discarded`
}

func failedInAClosure(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); err == nil { // want `returned by acquire is discarded`
		func() { t.Fatal("acquire succeeded") }()
	}
}

func errorsIsNilTarget(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); !errors.Is(err, nil) { // want `returned by acquire is discarded`
		t.Error("want no error")
	}
}

func errorsIsFalse(t *testing.T, ctx context.Context, l slots.Limiter) {
	if _, _, err := l.TryAcquire(ctx, "k", 1); errors.Is(err, slots.ErrFull) { // want `returned by Limiter.TryAcquire is discarded`
		t.Error("full")
	}
}

func errorPredicatesFalse(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); failhelpers.IsRefused(err) { // want `returned by acquire is discarded`
		t.Errorf("acquire = %v", err)
	}
	if _, err := acquire(ctx); !failhelpers.IsX(err) { // want `returned by acquire is discarded`
		t.Errorf("acquire = %v; want errX", err)
	}
}

func heldAndLogged(t *testing.T, ctx context.Context) {
	rel, err := acquire(ctx) // want `not used on all paths`
	if err == nil {
		t.Log("acquire succeeded")
		return // want `this return statement may be reached without using the release function rel`
	}
	rel()
}

func helpersThatDoNotAlwaysFail(t *testing.T, ctx context.Context) {
	if _, err := acquire(ctx); err == nil { // want `returned by acquire is discarded`
		failhelpers.NoError(t, errors.New("acquire succeeded"))
	}
	if _, err := acquire(ctx); err == nil { // want `returned by acquire is discarded`
		failhelpers.Logf(t, "acquire succeeded")
	}
	if _, err := acquire(ctx); err == nil { // want `returned by acquire is discarded`
		failhelpers.Recovered(t)
	}
	if _, err := acquire(ctx); err == nil { // want `returned by acquire is discarded`
		failhelpers.Fail(t, "acquire succeeded")
	}
}
