// Package slots is a stand-in for github.com/ctxguard/release/slots with
// the same Limiter interface and AcquireWithin. It does not import the
// release package: the analyzer knows Limiter's TryAcquire and Acquire, and
// AcquireWithin, by name, not by a fact.
package slots

import (
	"context"
	"errors"
	"time"
)

var (
	ErrFull   = errors.New("slots: key is full")
	ErrClosed = errors.New("slots: limiter closed")
)

type Limiter interface {
	TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
	Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error)
	InUse(ctx context.Context, key string) (int, error)
	Close() error
}

// AcquireWithin waits for a slot at most wait; the slot is made on ctx.
func AcquireWithin(ctx context.Context, l Limiter, key string, limit int, wait time.Duration) (context.Context, func(), error) {
	wctx, stop := context.WithCancel(ctx)
	timer := time.AfterFunc(wait, stop)
	sctx, rel, err := l.Acquire(wctx, key, limit)
	if err != nil {
		timer.Stop()
		stop()
		return nil, nil, err
	}
	timer.Stop()
	return sctx, func() { rel(); stop() }, nil
}
