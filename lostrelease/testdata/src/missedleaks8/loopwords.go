package missedleaks8

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// rel is declared in the outer loop's body and assigned in the inner
// loop's: the continue of the outer loop loses the guard and comes back
// to the assignment through the declaration, which makes a new rel; it
// does not overwrite this one.
func userAccountsLabeled(ctx context.Context, l slots.Limiter, users, accts []string) {
outer:
	for _, u := range users {
		var rel func()
		var st status
		for _, a := range accts {
			rel, st = acquireAccountSlot(ctx, l, u+":"+a) // want `the release function returned by acquireAccountSlot is not used on all paths`
			if st != statusOK || a == "skip" {
				continue outer // want `this continue statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
			}
			rel()
		}
	}
}

// The same with the inner loop left by a break and the outer loop's own
// continue.
func userAccountsBreak(ctx context.Context, l slots.Limiter, users, accts []string) {
	for _, u := range users {
		var rel func()
		var st status
		for _, a := range accts {
			rel, st = acquireAccountSlot(ctx, l, u+":"+a) // want `the release function returned by acquireAccountSlot is not used on all paths`
			if st == statusOK {
				break
			}
		}
		if u == "skip" {
			continue // want `this continue statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
		}
		if st == statusOK {
			rel()
		}
	}
}
