package falsereports4

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// Two-slot helpers with bare returns that give the user's slot back when
// the account's is refused, told by a case list or an ordered comparison:
// both guards come with statusOK only.

// acquireRouteSplit keeps the account's status apart: at the bare return
// st is statusOK (the first check), and relA is non-nil only then.
func acquireRouteSplit(ctx context.Context, l slots.Limiter) (relU, relA func(), st status) { // want acquireRouteSplit:"returnsGuard\\[0 1\\] 0:\\{2=0\\} 1:\\{2=0\\}"
	relU, st = acquireUserSlot(ctx, l, "u")
	if st != statusOK {
		return
	}
	var stA status
	relA, stA = acquireAccountSlot(ctx, l, "a")
	if stA != statusOK {
		relU()
		return nil, nil, stA
	}
	return
}

func routeSplitCaller(ctx context.Context, l slots.Limiter) error {
	relU, relA, st := acquireRouteSplit(ctx, l)
	if st != statusOK {
		return errors.New("refused")
	}
	defer relU()
	defer relA()
	return step()
}
