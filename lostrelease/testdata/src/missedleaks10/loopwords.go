package missedleaks10

import (
	"context"
)

// rel is declared in the outer loop's body and assigned in the inner
// loop's, which a granted slot leaves by a break. A break out of the
// select (or the switch) after the inner loop skips the release, ends the
// outer loop's body and goes round to the next user, whose declaration
// makes a new rel: the break does not lead to an overwrite of this one.
func selectBreak(ctx context.Context, h *handler, users, accts []string, stop <-chan struct{}) {
	for _, u := range users {
		var rel func()
		st := statusFull
		for _, a := range accts {
			rel, st = acquireAccountSlot(ctx, h.l, u+":"+a) // want `the release function returned by acquireAccountSlot is not used on all paths`
			if st == statusOK {
				break
			}
		}
		if st == statusOK {
			select {
			case <-stop:
				break // want `this break statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
			default:
				rel()
			}
		}
	}
}

// The same with a break out of a switch case.
func switchBreak(ctx context.Context, h *handler, users, accts []string) {
	for _, u := range users {
		var rel func()
		st := statusFull
		for _, a := range accts {
			rel, st = acquireAccountSlot(ctx, h.l, u+":"+a) // want `the release function returned by acquireAccountSlot is not used on all paths`
			if st == statusOK {
				break
			}
		}
		switch st {
		case statusOK:
			if u == "audit" {
				break // want `this break statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
			}
			rel()
		}
	}
}

// An inner loop picks the account before the slot is taken. The slot of
// a skipped request leaks at the continue; the path then goes round the
// outer loop and through the inner loop's break, taken before the next
// slot, which is not where the guard is lost: it should not be reported.
func breakBeforeSlot(ctx context.Context, h *handler, users, accts []string) {
	for _, u := range users {
		acct := ""
		for _, a := range accts {
			if a != "" {
				acct = a
				break
			}
		}
		rel, st := acquireAccountSlot(ctx, h.l, u+":"+acct) // want `the release function returned by acquireAccountSlot is not used on all paths`
		if st != statusOK {
			continue
		}
		if u == "skip" {
			continue // want `this continue statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
		}
		rel()
	}
}
