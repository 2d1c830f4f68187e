// Package limiter calls the methods of slots.Limiter directly, through the
// interface: TryAcquire and Acquire are sources, with the guard at result
// 1, nil whenever the error at result 2 is not nil.
package limiter

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

func work(context.Context) error { return errors.New("failed") }

// Not reported.

func deferred(ctx context.Context, l slots.Limiter) error {
	ctx, rel, err := l.TryAcquire(ctx, "user:1", 4)
	if err != nil {
		return err
	}
	defer rel()
	return work(ctx)
}

func waited(ctx context.Context, l slots.Limiter) error {
	sctx, rel, err := l.Acquire(ctx, "user:1", 4)
	if errors.Is(err, slots.ErrFull) {
		return nil
	} else if err != nil {
		return err
	}
	defer rel()
	return work(sctx)
}

func bareReturn(ctx context.Context, l slots.Limiter) {
	_, rel, err := l.TryAcquire(ctx, "user:1", 4)
	if err != nil {
		return
	}
	rel()
}

// Big embeds Limiter: its TryAcquire is Limiter's.
type Big interface {
	slots.Limiter
	Name() string
}

func embedded(ctx context.Context, l Big) {
	_, rel, err := l.TryAcquire(ctx, l.Name(), 4)
	if err != nil {
		return
	}
	defer rel()
}

// Reported.

func discarded(ctx context.Context, l slots.Limiter) error {
	_, _, err := l.TryAcquire(ctx, "user:1", 4) // want `the release function returned by Limiter.TryAcquire is discarded`
	return err
}

func secondReturn(ctx context.Context, l slots.Limiter) error {
	sctx, rel, err := l.TryAcquire(ctx, "user:1", 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	if err := work(sctx); err != nil {
		return err // want `this return statement may be reached without using the release function rel defined on line 67`
	}
	rel()
	return nil
}

func acquireLeaks(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.Acquire(ctx, "user:1", 4) // want `returned by Limiter.Acquire is not used on all paths`
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err() // want `without using the release function rel defined on line 79`
	}
	defer rel()
	return nil
}

func generic[L slots.Limiter](ctx context.Context, l L) error {
	_, rel, err := l.TryAcquire(ctx, "user:1", 4) // want `returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return err
	}
	if err := work(ctx); err != nil {
		return err // want `without using the release function rel`
	}
	rel()
	return nil
}

func embeddedLeaks(ctx context.Context, l Big) {
	_, rel, err := l.TryAcquire(ctx, l.Name(), 4) // want `not used on all paths`
	if err != nil || l.Name() == "" {
		return // want `without using the release function rel`
	}
	defer rel()
}

// Not sources: a method value, a method expression, and interfaces of
// their own with the same method names.

func methodValue(ctx context.Context, l slots.Limiter) error {
	acquire := l.TryAcquire
	_, rel, err := acquire(ctx, "user:1", 4)
	if err != nil {
		return err
	}
	if err := work(ctx); err != nil {
		return err
	}
	rel()
	return nil
}

func methodExpr(ctx context.Context, l slots.Limiter) error {
	_, _, err := slots.Limiter.TryAcquire(l, ctx, "user:1", 4)
	return err
}

// Acquirer has Limiter's method names and signatures, but is not Limiter.
type Acquirer interface {
	TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
	Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
}

func otherInterface(ctx context.Context, a Acquirer) error {
	_, _, err := a.TryAcquire(ctx, "user:1", 4)
	if err != nil {
		return err
	}
	_, rel, err := a.Acquire(ctx, "user:1", 4)
	if err != nil {
		return err
	}
	if err := work(ctx); err != nil {
		return err
	}
	rel()
	return nil
}

func literalInterface(ctx context.Context, a interface {
	TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
}) error {
	_, _, err := a.TryAcquire(ctx, "user:1", 4)
	return err
}

// A Limiter whose methods are not the interface's: a concrete type with
// the same names has a fact only if its bodies return a guard.
type fake struct{}

func (fake) TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	return ctx, func() {}, nil
}

func concrete(ctx context.Context) error {
	_, _, err := fake{}.TryAcquire(ctx, "user:1", 4)
	return err
}

func genericBig[L Big](ctx context.Context, l L) {
	_, rel, err := l.Acquire(ctx, l.Name(), 4) // want `returned by Limiter.Acquire is not used on all paths`
	if err != nil {
		return
	}
	if l.Name() == "" {
		return // want `without using the release function rel`
	}
	defer rel()
}
