package slots

import (
	"context"
	"errors"
	"time"
)

// AcquireWithin takes a slot of key from l, waiting in line for it at most
// wait. wait bounds only the wait: the slot it returns lives as long as a
// slot from l.Acquire(ctx, key, limit) would, until its release is called,
// ctx is done or l takes it back, however long that is.
//
// It waits no less than wait, and not much more: when wait has passed
// without a slot, it ends its Acquire call, which leaves the line at once
// (for [Local]; a Limiter whose line is elsewhere takes its own time to
// leave it, such as one round trip to Redis). It then returns an error that
// names the key and wraps [ErrWaitTimeout], for which errors.Is(err,
// ErrFull) is true too. A slot that arrives just as wait runs out is
// released before AcquireWithin returns that error, so that no slot is
// lost.
//
// Every other outcome is l.Acquire's, as Acquire gave it: a slot, or
// ctx.Err() when ctx ends first (a ctx deadline earlier than wait gives
// [context.DeadlineExceeded], not ErrWaitTimeout), ErrClosed, an error
// wrapping ErrQueueFull, an error about the key or the limit, or the
// backend's own error. On an error both the context and the release are
// nil.
//
// A wait of 0 or less does not wait at all: AcquireWithin then returns
// what l.TryAcquire(ctx, key, limit) returns, whose refusal is ErrFull
// (wrapped), not ErrWaitTimeout.
//
// On success the slot's context is done when ctx is done (with its cause),
// when release is called, or when l takes the slot back, and release frees
// the slot exactly once, as Acquire's does; when a call of release returns,
// the slot is free. While it waits, AcquireWithin holds a timer and a
// context derived from ctx, and no goroutine of its own; once it has
// returned an error, or once release has been called (or ctx is done), it
// holds neither, so a long-lived ctx keeps nothing of it.
//
// AcquireWithin panics if ctx or l is nil.
func AcquireWithin(ctx context.Context, l Limiter, key string, limit int, wait time.Duration) (context.Context, func(), error) {
	if ctx == nil {
		panic("slots: AcquireWithin called with a nil Context")
	}
	if l == nil {
		panic("slots: AcquireWithin called with a nil Limiter")
	}
	if wait <= 0 {
		return l.TryAcquire(ctx, key, limit)
	}
	// The slot's context is a child of waitCtx, which ends with ctx, with
	// the timer, or with the release: the timer must not outlive the wait.
	waitCtx, stop := context.WithCancelCause(ctx)
	timer := time.AfterFunc(wait, func() { stop(ErrWaitTimeout) })
	sctx, rel, err := l.Acquire(waitCtx, key, limit)
	if err != nil {
		timer.Stop()
		timedOut := context.Cause(waitCtx) == ErrWaitTimeout
		stop(nil)
		if timedOut && (errors.Is(err, context.Canceled) || errors.Is(err, ErrWaitTimeout)) {
			return nil, nil, &waitTimeoutKeyError{key, wait}
		}
		return nil, nil, err
	}
	if !timer.Stop() { // the timer fired as the slot came: waitCtx is ending
		rel()
		stop(nil)
		return nil, nil, &waitTimeoutKeyError{key, wait}
	}
	return sctx, func() { rel(); stop(nil) }, nil
}

// waitTimeoutKeyError is ErrWaitTimeout for one key and wait.
type waitTimeoutKeyError struct {
	key  string
	wait time.Duration
}

func (e *waitTimeoutKeyError) Error() string {
	return "slots: no free slot within " + e.wait.String() + " for key " + QuoteKey(e.key)
}

func (e *waitTimeoutKeyError) Unwrap() error { return ErrWaitTimeout }
