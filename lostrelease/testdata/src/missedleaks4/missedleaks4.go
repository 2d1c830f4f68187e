// Package missedleaks4 holds leaks of guards held in named results: a
// return with explicit results that does not return the guard, an
// overwrite, a continue that leads to one, and a return of another call's
// results. Each must be reported in the function itself; its callers are
// checked as usual.
package missedleaks4

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

func statusOf(err error) status { // want statusOf:"isPredicate maps:1=!nil,2=!$"
	if errors.Is(err, slots.ErrFull) {
		return statusFull
	}
	return statusBackend
}

func step() error { return nil }

func healthy(string) bool { return true }

func acquireUserSlot(ctx context.Context, l slots.Limiter, user string) (func(), status) { // want acquireUserSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, "user:"+user, 2)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}
