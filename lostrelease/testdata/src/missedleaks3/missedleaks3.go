// Package missedleaks3 holds leaks that the analyzer does not report.
package missedleaks3

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

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}

// failoverForInit forgets to update ok, a copy of the first status made
// in the loop's init: a granted account does not stop the loop, and the
// next round overwrites its guard. The same loop with ok declared before
// it is reported as below.
func failoverForInit(ctx context.Context, l slots.Limiter, accts []string) error {
	rel, st := acquireAccountSlot(ctx, l, accts[0]) // want `the release function returned by acquireAccountSlot is not used on all paths`
	for i, ok := 1, st == statusOK; !ok && i < len(accts); i++ {
		rel, st = acquireAccountSlot(ctx, l, accts[i]) // want `the release function returned by acquireAccountSlot is not used on all paths` `this statement overwrites the release function rel defined on line 41` `this statement overwrites the release function rel defined on line 43`
	}
	if st != statusOK {
		return errors.New("all refused")
	}
	defer rel()
	return step()
}
