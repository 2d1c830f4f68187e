// Package missedleaks holds real leaks where a status, a predicate's or a
// map's result is changed aside from the paths of the function: in a
// closure, a deferred call, or through its address. Each is reported.
package missedleaks

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusDraining
)

// degrade marks a granted status as draining.
func (s *status) degrade(draining bool) {
	if draining {
		*s = statusDraining
	}
}

func step() error { return nil }

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}
