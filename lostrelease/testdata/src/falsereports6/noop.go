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

// False report (rule 1, named results): on a refusal the helper's release
// is noop, which holds nothing; returning nil in its place leaks nothing.
// The helper's fact counts noop as a guard (any release that is not the
// literal nil), so the refusal branch is not a failure branch. The local
// form below has been reported the same way since before named results
// were checked.
func (g *gateway) acquireForRoute(ctx context.Context, acct string) (rel func(), st status) { // want acquireForRoute:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	rel, st = g.acquireAccountSlot(ctx, acct) // want `the release function returned by gateway.acquireAccountSlot is not used on all paths`
	if st != statusOK {
		return nil, st // want `this return statement may be reached without using the release function rel`
	}
	return
}

// False report, the same with a local release (not new): noop is dropped
// on the refusal branch.
func (g *gateway) serveAccountLocal(ctx context.Context, acct string) int {
	rel, st := g.acquireAccountSlot(ctx, acct) // want `the release function returned by gateway.acquireAccountSlot is not used on all paths`
	if st != statusOK {
		return http.StatusTooManyRequests // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}
