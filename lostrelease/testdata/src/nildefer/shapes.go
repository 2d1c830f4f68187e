package nildefer

import (
	"context"
	"log"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/slots"
)

func work() error { return nil }

func deferWithin(ctx context.Context, l slots.Limiter) error {
	_, rel, err := slots.AcquireWithin(ctx, l, "k", 1, time.Second)
	defer rel() // want `rel is nil when AcquireWithin fails: deferred before the call's result is checked, it panics then`
	return err
}

func deferRedis(ctx context.Context, l *redisslot.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	defer rel() // want `rel is nil when Limiter.TryAcquire fails: deferred before the call's result is checked, it panics then`
	return err
}

func inASelect(ctx context.Context, l slots.Limiter, ready <-chan struct{}) error {
	select {
	case <-ready:
		_, rel, err := l.TryAcquire(ctx, "k", 1)
		defer rel() // want `rel is nil when Limiter.TryAcquire fails: deferred before the call's result is checked, it panics then`
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Correct: the label is reached only through the goto after the check.
func checkedAfterAGoto(ctx context.Context, l slots.Limiter) error {
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	goto check
held:
	log.Print("slot held")
	defer rel()
	return work()
check:
	if err != nil {
		return err
	}
	goto held
}
