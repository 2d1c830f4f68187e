package falsereports15

import (
	"context"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// acquireRelOnErr returns its variable rel on the refusal too. rel is nil
// there: a Limiter's release is nil whenever its error is not, so no path
// on which rel may hold a slot reaches that return, and statusFull is no
// status the guard may be non-nil with.
func acquireRelOnErr(ctx context.Context, l slots.Limiter, key string) (func(), status) { // want acquireRelOnErr:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, key, 4)
	if err != nil {
		return rel, statusFull
	}
	return rel, statusOK
}

// The return is reached only with statusFull, where the helper's rel is
// nil.
func relOnErrCaller(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireRelOnErr(ctx, l, "k")
	if st != statusOK {
		return st.httpCode()
	}
	defer rel()
	return http.StatusOK
}
