// Package nildefer holds releases deferred before their call's result is
// checked: on failure the release is nil, and the deferred call panics as
// the function returns. The correct forms are not reported.
package nildefer

import (
	"context"
	"errors"
	"log"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

// acquireSlot returns a guard only with statusOK.
func acquireSlot(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

func deferFirst(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	defer rel() // want `rel is nil when Limiter.TryAcquire fails: deferred before the call's result is checked, it panics then`
	if err != nil {
		return err
	}
	return nil
}

func deferAfterALog(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.Acquire(ctx, "k", 1)
	log.Print("acquire returned")
	defer rel() // want `rel is nil when Limiter.Acquire fails: deferred before the call's result is checked, it panics then`
	return err
}

// Not reported: a helper may return a no-op release on failure, and only
// the Limiters' calls are documented to return nil.
func helperDeferFirst(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireSlot(ctx, l)
	defer rel()
	if st != statusOK {
		return 429
	}
	return 200
}

func inACase(ctx context.Context, l slots.Limiter, try bool) error {
	switch {
	case try:
		_, rel, err := l.TryAcquire(ctx, "k", 1)
		defer rel() // want `rel is nil when Limiter.TryAcquire fails: deferred before the call's result is checked, it panics then`
		return err
	}
	return nil
}

// Correct: the error is checked first.
func deferAfterCheck(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return err
	}
	defer rel()
	return nil
}

// Correct: the release is checked for nil.
func deferIfNotNil(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if rel != nil {
		defer rel()
	}
	return err
}

// Correct: a status checked through a predicate.
func deferAfterPredicate(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if errors.Is(err, slots.ErrFull) || err != nil {
		return err
	}
	defer rel()
	return nil
}

// Correct: a closure checks for nil when it runs.
func deferClosure(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	defer func() {
		if rel != nil {
			rel()
		}
	}()
	return err
}
