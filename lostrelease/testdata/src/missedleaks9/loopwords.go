package missedleaks9

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// rel is declared in the outer loop's body and assigned in the inner
// loop's, which a granted slot leaves by a break. For a skipped user the
// break leads to the end of the outer loop's body and round to the next
// user, whose declaration makes a new rel: the break does not lead to an
// overwrite of this one.
func userAccountsFallOff(ctx context.Context, l slots.Limiter, users, accts []string) {
	for _, u := range users {
		var rel func()
		var st status
		for _, a := range accts {
			rel, st = acquireAccountSlot(ctx, l, u+":"+a) // want `the release function returned by acquireAccountSlot is not used on all paths`
			if st == statusOK {
				break // want `this break statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
			}
		}
		if st == statusOK && u != "skip" {
			rel()
		}
	}
}

// rel is declared and assigned in the outer loop's body; the inner loop's
// continue goes round the inner loop, which then ends without releasing
// rel and goes round the outer loop, through the declaration of a new
// rel: the continue does not lead to an overwrite of this one.
func userInnerContinue(ctx context.Context, l slots.Limiter, users, accts []string) {
	for _, u := range users {
		var rel func()
		var st status
		rel, st = acquireAccountSlot(ctx, l, u) // want `the release function returned by acquireAccountSlot is not used on all paths` `the loop comes back to this statement, which declares a new release function rel before the one it declared is used`
		if st != statusOK {
			continue
		}
		for _, a := range accts {
			if a == "" {
				continue // want `this continue statement may lead back to line [0-9]+, which declares a new release function rel before the one it declared is used`
			}
			if a == u {
				rel()
				break
			}
		}
	}
} // want `this return statement may be reached without using the release function rel defined on line [0-9]+`
