package falsereports6

import (
	"context"
	"net/http"
)

// Not reported (rule 4, nildefer, which looks only at the Limiters' calls): the release is deferred before the
// status is checked, but acquireAccountSlot never returns a nil release
// (noop on every refusal), so the deferred call cannot panic. The check
// reports whenever the helper's status has known values, without asking
// whether the helper ever returns a nil guard.
func (g *gateway) serveAccount(w http.ResponseWriter, r *http.Request) {
	rel, st := g.acquireAccountSlot(r.Context(), r.Header.Get("X-Account"))
	defer rel()
	if st == statusFull {
		http.Error(w, "busy", http.StatusTooManyRequests)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Not reported: on a refusal the helper's release is noop, which holds
// nothing; returning nil in its place leaks nothing. The helper's fact
// counts a function that does nothing as no guard.
func (g *gateway) acquireForRoute(ctx context.Context, acct string) (rel func(), st status) { // want acquireForRoute:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	if st != statusOK {
		return nil, st
	}
	return
}

// Not reported: the same with a local release, noop dropped on the
// refusal branch.
func (g *gateway) serveAccountLocal(ctx context.Context, acct string) int {
	rel, st := g.acquireAccountSlot(ctx, acct)
	if st != statusOK {
		return http.StatusTooManyRequests
	}
	defer rel()
	return http.StatusOK
}

// userSlot returns a function literal that does nothing on a refusal.
func (g *gateway) userSlot(ctx context.Context, user string) (func(), status) { // want userSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := g.accounts.TryAcquire(ctx, "user:"+user, 2)
	if err != nil {
		return func() {}, statusFull
	}
	return rel, statusOK
}

// Not reported: the literal that does nothing is dropped on the refusal.
func (g *gateway) serveUser(ctx context.Context, user string) int {
	rel, st := g.userSlot(ctx, user)
	if st != statusOK {
		return http.StatusTooManyRequests
	}
	defer rel()
	return http.StatusOK
}
