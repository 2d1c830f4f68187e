package falsereports3

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquireRoute takes the user's slot, then the account's, into named
// results returned bare, and gives the user's back when the account's is
// refused: both guards come with statusOK only.
func acquireRoute(ctx context.Context, l slots.Limiter) (relU, relA func(), st status) { // want acquireRoute:"returnsGuard\\[0 1\\] 0:\\{2=0\\} 1:\\{2=0\\}"
	relU, st = acquireUserSlot(ctx, l, "u")
	if st != statusOK {
		return
	}
	relA, st = acquireAccountSlot(ctx, l, "a")
	if st != statusOK {
		relU()
		relU = nil
	}
	return
}

func handleRoute(ctx context.Context, l slots.Limiter) error {
	relU, relA, st := acquireRoute(ctx, l)
	if st != statusOK {
		return errors.New("refused")
	}
	defer relU()
	defer relA()
	return step()
}
