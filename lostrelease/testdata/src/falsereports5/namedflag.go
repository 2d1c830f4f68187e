package falsereports5

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// acquireSwitched presets its named status, sets it in a switch on the
// error, then returns early on it: the paths follow st by the constants it
// is assigned, and st is statusOK wherever the guard is held.
func acquireSwitched(ctx context.Context, l slots.Limiter) (release func(), st status) { // want acquireSwitched:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st = statusBackend
	_, release, err := l.TryAcquire(ctx, "k", 1)
	switch {
	case err == nil:
		st = statusOK
	case errors.Is(err, slots.ErrFull):
		st = statusFull
	}
	if st != statusOK {
		return nil, st
	}
	return
}
