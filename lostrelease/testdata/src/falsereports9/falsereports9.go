// Package falsereports9 holds correct code in the gateway's shapes that
// lostrelease reports today (cleanup.go: the comment on each case says why
// the code is correct), and reports it gives with the wrong words
// (falsereports9.go: the leak is real, but the report describes another;
// the want on each is the report the analyzer should give).
package falsereports9

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if errors.Is(err, slots.ErrFull) || err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

// rel is declared in the loop's body, so each round has a new one: the
// continue loses this round's guard, it does not lead to an overwrite of
// it (the assignment on line 39 sets the next round's rel). The report
// should say, as for `rel, st := ...` in the loop, that the loop comes
// back to a statement that declares a new release function.
func failoverVarInLoop(ctx context.Context, l slots.Limiter, accts []string) {
	for _, a := range accts {
		var rel func()
		var st status
		rel, st = acquireAccountSlot(ctx, l, a) // want `the release function returned by acquireAccountSlot is not used on all paths`
		if st != statusOK || a == "skip" {
			continue // want `this continue statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
		}
		rel()
	}
}

// The same without a continue: the loop's end goes round to the next
// round's rel, which is a new variable, not the one this round assigned.
func roundsVarInLoop(ctx context.Context, l slots.Limiter, accts []string) {
	for _, a := range accts {
		var rel func()
		var st status
		rel, st = acquireAccountSlot(ctx, l, a) // want `the release function returned by acquireAccountSlot is not used on all paths` `declares a new release function rel before the one it declared is used`
		if st == statusOK && a != "skip" {
			rel()
		}
	}
} // want `this return statement may be reached without using the release function rel defined on line 53`

// rel is declared in the loop's body, but the goto comes back to the
// assignment without passing the declaration: that is an overwrite.
func retryVarInLoop(ctx context.Context, l slots.Limiter, accts []string) {
	for _, a := range accts {
		var rel func()
		var st status
	retry:
		rel, st = acquireAccountSlot(ctx, l, a) // want `the release function returned by acquireAccountSlot is not used on all paths`
		if a == "again" {
			goto retry // want `this goto statement may lead to line [0-9]+, which overwrites the release function rel defined on line [0-9]+ before it is used`
		}
		if st == statusOK {
			rel()
		}
	}
}
