// Package slots is a stand-in for github.com/ctxguard/release/slots with
// the same Limiter interface. It does not import the release package: the
// analyzer knows Limiter's TryAcquire and Acquire by name, not by a fact.
package slots

import (
	"context"
	"errors"
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
