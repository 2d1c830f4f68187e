// Package shortctx checks guards made on a context that a cancel deferred
// by the same function ends: returned, such a guard fires as soon as the
// function returns.
package shortctx

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ctxguard/release"

	"predicates"
)

type slot struct{ Release func() }

type service struct{}

// acquireWait waits for a slot until ctx is done.
func (service) acquireWait(ctx context.Context) (slot, error) {
	return slot{Release: func() {}}, ctx.Err()
}

type handler struct{ svc service }

var errStep = errors.New("step failed")

func step() error { return errStep }

func onCause(error) {}

// The misuse found on a gateway: the slot is freed when waitForSlot returns.
func (h *handler) waitForSlot(r *http.Request, timeout time.Duration) (func(), error) { // want waitForSlot:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	res, err := h.svc.acquireWait(ctx)
	if err != nil {
		return nil, err
	}
	return release.WrapOnDone(ctx, res.Release), nil // want `the guard's ctx is cancelled by the deferred cancel when handler.waitForSlot returns: it fires then`
}

func withCancel(parent context.Context, free func()) func() { // want withCancel:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	return release.WrapOnDone(ctx, free) // want `cancelled by the deferred cancel when withCancel returns`
}

func withDeadline(parent context.Context, at time.Time, free func()) func() { // want withDeadline:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithDeadline(parent, at)
	defer cancel()
	return release.WrapOnDone(ctx, free) // want `cancelled by the deferred cancel when withDeadline returns`
}

func withCancelCause(parent context.Context) (func(), error) { // want withCancelCause:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(errStep)
	return release.WrapOnDoneCause(ctx, onCause), nil // want `cancelled by the deferred cancel when withCancelCause returns`
}

func withTimeoutCause(parent context.Context, free func()) func() { // want withTimeoutCause:"returnsGuard\\[0\\]"
	var ctx, cancel = context.WithTimeoutCause(parent, time.Second, errStep)
	defer cancel()
	return release.WrapOnDone(ctx, free) // want `cancelled by the deferred cancel when withTimeoutCause returns`
}

// The guard returned through a local variable, made before the defer.
func viaVariable(parent context.Context, free func()) (func(), error) { // want viaVariable:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithTimeout(parent, time.Second)
	rel := release.WrapOnDone(ctx, free) // want `cancelled by the deferred cancel when viaVariable returns`
	defer cancel()
	if err := step(); err != nil {
		rel()
		return nil, err
	}
	return rel, nil
}

// In a function literal, the literal's own return counts.
func literal(parent context.Context, free func()) func() func() {
	return func() func() {
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		return release.WrapOnDone(ctx, free) // want `cancelled by the deferred cancel when the function literal returns`
	}
}

func ignored(parent context.Context, free func()) func() { // want ignored:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	//lostrelease:ignore the caller only wants a release that is safe to call
	return release.WrapOnDone(ctx, free)
}

// Correct shapes: none is reported.

// The guard is used in the function, before the deferred cancel.
func usedInFunction(parent context.Context, free func()) error {
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	rel := release.WrapOnDone(ctx, free)
	defer rel()
	return step()
}

// ctx is the caller's: nothing here ends it.
func ctxParameter(ctx context.Context, free func()) func() { // want ctxParameter:"returnsGuard\\[0\\]"
	_, cancel := context.WithCancel(ctx)
	defer cancel()
	return release.WrapOnDone(ctx, free)
}

// cancel is called on the error path only: the returned guard lives on.
func cancelOnErrorOnly(parent context.Context, free func()) (func(), error) { // want cancelOnErrorOnly:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithTimeout(parent, time.Minute)
	if err := step(); err != nil {
		cancel()
		return nil, err
	}
	return release.WrapOnDone(ctx, func() { cancel(); free() }), nil
}

// A defer inside an if may be skipped.
func deferInIf(parent context.Context, free func(), short bool) func() { // want deferInIf:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	if short {
		defer cancel()
	}
	return release.WrapOnDone(ctx, free)
}

// ctx is assigned again: it may not be the cancelled one.
func ctxReassigned(parent context.Context, free func()) func() { // want ctxReassigned:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	ctx = parent
	return release.WrapOnDone(ctx, free)
}

// The guard is made on the request's context; only the wait uses the
// child.
func (h *handler) parentCtx(r *http.Request, timeout time.Duration) (func(), error) { // want parentCtx:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	res, err := h.svc.acquireWait(ctx)
	if err != nil {
		return nil, err
	}
	return release.WrapOnDone(r.Context(), res.Release), nil
}

// The cancel is deferred by a goroutine, which ends ctx when done is
// closed, not when the function returns.
func closureDefers(parent context.Context, free func(), done chan struct{}) func() { // want closureDefers:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	go func() {
		defer cancel()
		<-done
	}()
	return release.WrapOnDone(ctx, free)
}

// The guard is returned before the cancel is deferred.
func returnedBeforeDefer(parent context.Context, free func(), early bool) func() { // want returnedBeforeDefer:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	rel := release.WrapOnDone(ctx, free)
	if early {
		return rel
	}
	defer cancel()
	rel()
	return nil
}

// The variable returned holds another func by then: the guard was used.
func guardReplaced(parent context.Context, free func()) func() { // want guardReplaced:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	rel := release.WrapOnDone(ctx, free)
	rel()
	rel = release.WrapOnDone(parent, free)
	return rel
}

// A goto may jump over the defer, as an if may skip it.
func gotoOverDefer(parent context.Context, free func(), skip bool) func() { // want gotoOverDefer:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	if skip {
		goto done
	}
	defer cancel()
done:
	return release.WrapOnDone(ctx, free)
}

// A nil fn gives a nil guard: nothing fires.
func nilFn(parent context.Context) func() {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	return release.WrapOnDone(ctx, nil)
}

// Helpers of one result that make their guard on their ctx parameter.

func wrapSlot(ctx context.Context, free func()) func() { // want wrapSlot:"returnsGuard\\[0\\] nilIfNil\\[1\\] ctxOf\\[0\\]$"
	return release.WrapOnDone(ctx, free)
}

func wrapDetached(ctx context.Context, free func()) func() { // want wrapDetached:"returnsGuard\\[0\\] nilIfNil\\[1\\]$"
	return release.WrapOnDone(context.WithoutCancel(ctx), free)
}

func viaHelper(parent context.Context, free func()) func() { // want viaHelper:"returnsGuard\\[0\\] nilIfNil\\[1\\]$"
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	return wrapSlot(ctx, free) // want `cancelled by the deferred cancel when viaHelper returns`
}

func viaHelperElsewhere(parent context.Context, free func()) func() { // want viaHelperElsewhere:"returnsGuard\\[0\\] nilIfNil\\[1\\]$"
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	g := predicates.Wrap(ctx, free) // want `cancelled by the deferred cancel when viaHelperElsewhere returns`
	return g
}

// The helper detaches its guard from ctx: nothing ends it.
func viaDetachingHelper(parent context.Context, free func()) func() { // want viaDetachingHelper:"returnsGuard\\[0\\] nilIfNil\\[1\\]$"
	ctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	return wrapDetached(ctx, free)
}
