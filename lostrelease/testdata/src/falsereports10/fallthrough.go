package falsereports10

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// Not reported: the slot is taken in case 1, which tier 1 and tier 2
// (through the fallthrough) reach, and released by a second switch on the
// same tier, never assigned, that reaches case 1 for the same two values.
// The case that takes the slot is entered by a fallthrough, so the slot is
// held under no value of tier, and the second switch's way past case 1
// (tier neither 1 nor 2) is taken to lose it.
func mirroredTiers(ctx context.Context, l slots.Limiter, tier int) {
	var rel func()
	var st status
	switch tier {
	case 2:
		fallthrough
	case 1:
		rel, st = acquireAccountSlot(ctx, l, "a")
		if st != statusOK {
			return
		}
	}
	switch tier {
	case 2:
		fallthrough
	case 1:
		rel()
	}
}

// Not reported: the same slot, released by a second switch whose one case
// lists both tiers.
func listedTiers(ctx context.Context, l slots.Limiter, tier int) {
	var rel func()
	var st status
	switch tier {
	case 2:
		fallthrough
	case 1:
		rel, st = acquireAccountSlot(ctx, l, "a")
		if st != statusOK {
			return
		}
	}
	switch tier {
	case 1, 2:
		rel()
	}
}

// Not reported: the same slot, released under an if for each tier.
func tierByTier(ctx context.Context, l slots.Limiter, tier int) {
	var rel func()
	var st status
	switch tier {
	case 2:
		fallthrough
	case 1:
		rel, st = acquireAccountSlot(ctx, l, "a")
		if st != statusOK {
			return
		}
	}
	if tier == 1 {
		rel()
		return
	}
	if tier == 2 {
		rel()
	}
}
