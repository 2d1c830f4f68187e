package shortctx

import (
	"context"
	"sync"

	"github.com/ctxguard/release"
)

// Correct shapes, or shapes where the guard's end is not certain: none is
// reported.

func startSpan(ctx context.Context) (context.Context, func()) { return ctx, func() {} }

// end closes a span; it does not cancel ctx.
func spanEnded(parent context.Context, free func()) func() { // want spanEnded:"returnsGuard\\[0\\]"
	ctx, end := startSpan(parent)
	defer end()
	return release.WrapOnDone(ctx, free)
}

// cancel may be swapped for a no-op before it is deferred.
func cancelSwapped(parent context.Context, free func(), keep bool) func() { // want cancelSwapped:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	if keep {
		cancel = func() {}
	}
	defer cancel()
	return release.WrapOnDone(ctx, free)
}

// The parameter is assigned again after the cancelled child: it may be
// detached by the return.
func paramAssignedTwice(ctx context.Context, free func(), detach bool) func() { // want paramAssignedTwice:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if detach {
		ctx = context.WithoutCancel(ctx)
	}
	return release.WrapOnDone(ctx, free)
}

// The function defers another call; the cancel runs only with the guard.
func otherDefer(parent context.Context, free func(), mu *sync.Mutex) func() { // want otherDefer:"returnsGuard\\[0\\]"
	mu.Lock()
	defer mu.Unlock()
	ctx, cancel := context.WithCancel(parent)
	return release.WrapOnDone(ctx, func() { cancel(); free() })
}

type wrapper struct{}

// wrap makes its guard on ctx, its second parameter.
func (wrapper) wrap(parent, ctx context.Context, free func()) func() { // want wrap:"returnsGuard\\[0\\] nilIfNil\\[2\\] ctxOf\\[1\\]$"
	_ = parent
	return release.WrapOnDone(ctx, free)
}

// Called as a method expression, the receiver comes first among the
// arguments: the guard is made on parent, which nothing here ends.
func methodExpr(parent context.Context, free func()) func() { // want methodExpr:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	return wrapper.wrap(wrapper{}, ctx, parent, free)
}

// The guard made on the cancelled ctx is used here; the one returned is
// made on parent.
func twoGuards(parent context.Context, free func()) func() { // want twoGuards:"returnsGuard\\[0\\]"
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	inner := release.WrapOnDone(ctx, free)
	defer inner()
	rel := release.WrapOnDone(parent, free)
	return rel
}
