package falsereports8

import (
	"context"
	"errors"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

var errFull = errors.New("full")

// Not reported: the statement that copies the guard to rel sets held to
// true, so held is true wherever rel holds the guard, and `if held`
// releases it.
func serveHeldFlag(ctx context.Context, l slots.Limiter, acct string) error {
	var rel func()
	held := false
	_, r, err := l.TryAcquire(ctx, acct, 4)
	if err != nil {
		return err
	}
	rel, held = r, true
	err = work(ctx)
	if held {
		rel()
	}
	return err
}

// Not reported: the statement that makes the guard sets st to statusOK,
// and where the semaphore is full st keeps statusFull and rel is nil: the
// return under `st != statusOK` holds nothing.
func serveSemaphore(ctx context.Context, sem chan struct{}) error {
	var rel func()
	st := statusFull
	select {
	case sem <- struct{}{}:
		rel, st = release.WrapOnDone(ctx, func() { <-sem }), statusOK
	default:
	}
	if st != statusOK {
		return errFull
	}
	defer rel()
	return work(ctx)
}
