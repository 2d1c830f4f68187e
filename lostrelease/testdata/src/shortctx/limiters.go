package shortctx

import (
	"context"
	"time"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

// A Limiter's slot ends when the ctx it was taken on is done: returned, a
// slot taken on a ctx that a deferred cancel ends is freed as the function
// returns, while its caller still holds it. The waits below are the
// gateway's "at most 2s for a slot" helpers.

func acquireUserSlot(ctx context.Context, l slots.Limiter) (func(), bool) { // want acquireUserSlot:"returnsGuard\\[0\\] 0:\\{1=true\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second) // the parameter, assigned again
	defer cancel()
	_, rel, err := l.Acquire(ctx, "user", 1) // want `the guard's ctx is cancelled by the deferred cancel when acquireUserSlot returns: it fires then`
	if err != nil {
		return nil, false
	}
	return rel, true
}

func tryWithin(ctx context.Context, l slots.Limiter) (func(), error) { // want tryWithin:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, rel, err := l.TryAcquire(wctx, "k", 1) // want `the guard's ctx is cancelled by the deferred cancel when tryWithin returns: it fires then`
	return rel, err
}

func acquireWithinShort(ctx context.Context, l slots.Limiter) (func(), error) { // want acquireWithinShort:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, rel, err := slots.AcquireWithin(ctx, l, "k", 1, time.Second) // want `the guard's ctx is cancelled by the deferred cancel when acquireWithinShort returns: it fires then`
	return rel, err
}

func acquireAll(ctx context.Context, l slots.Limiter) (context.Context, func(), error) { // want acquireAll:"returnsGuard\\[1\\] 1:\\{2=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return l.Acquire(ctx, "k", 1) // want `the guard's ctx is cancelled by the deferred cancel when acquireAll returns: it fires then`
}

func wrapShadowed(ctx context.Context) func() { // want wrapShadowed:"returnsGuard\\[0\\]$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return release.WrapOnDone(ctx, func() {}) // want `the guard's ctx is cancelled by the deferred cancel when wrapShadowed returns: it fires then`
}

// accountSlot passes its ctx on to the Limiter: its guard is made on it.
func accountSlot(ctx context.Context, l slots.Limiter) (func(), bool) { // want accountSlot:"returnsGuard\\[0\\] 0:\\{1=true\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "account", 1)
	if err != nil {
		return nil, false
	}
	return rel, true
}

func accountSlotShort(ctx context.Context, l slots.Limiter) (func(), bool) { // want accountSlotShort:"returnsGuard\\[0\\] 0:\\{1=true\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rel, ok := accountSlot(ctx, l) // want `the guard's ctx is cancelled by the deferred cancel when accountSlotShort returns: it fires then`
	return rel, ok
}

// Correct: the wait is bounded, the slot made on the caller's ctx.
func acquireBounded(ctx context.Context, l slots.Limiter) (func(), error) { // want acquireBounded:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := slots.AcquireWithin(ctx, l, "k", 1, 2*time.Second)
	return rel, err
}

// Correct: the short ctx bounds something else.
func acquireBesideAShortCall(ctx context.Context, l slots.Limiter) (func(), error) { // want acquireBesideAShortCall:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := wctx.Err(); err != nil {
		return nil, err
	}
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	return rel, err
}

// Correct: the slot is taken before ctx is assigned again.
func acquireThenShorten(ctx context.Context, l slots.Limiter) (func(), error) { // want acquireThenShorten:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if ctx.Err() != nil {
		rel()
		return nil, ctx.Err()
	}
	return rel, err
}

// Correct: released before the function returns.
func acquireAndWork(ctx context.Context, l slots.Limiter) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return err
	}
	defer rel()
	return step()
}

// Not reported, not being certain: ctx is shortened on one path only.
func acquireMaybeShort(ctx context.Context, l slots.Limiter, d time.Duration) (func(), error) { // want acquireMaybeShort:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	return rel, err
}
