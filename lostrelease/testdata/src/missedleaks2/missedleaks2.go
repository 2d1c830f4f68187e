// Package missedleaks2 holds real leaks: a predicate or a status map whose
// recovering defer makes it return its zero value for a granted status, a
// helper that returns a copy of its guard, and a copy of a status read
// after a loop's new call. Each must be reported.
package missedleaks2

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

func step() error { return nil }

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}
