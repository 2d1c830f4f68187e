package falsereports15

import (
	"context"
	"net/http"
)

// acquireAudited takes the account's slot and audits the account. Its
// deferred closure gives the slot back and clears rel when the status
// it returns is not statusOK; every return is bare, so the closure sees
// what the return hands on. So rel is nil unless st is statusOK: where
// the slot was refused rel was nil already, and where the audit failed
// the closure frees it and sets it to nil. The closure is the helper's
// one defer, before every return; it assigns only nil to rel, and never
// assigns st.
func (g *gateway) acquireAudited(ctx context.Context, acct string) (rel func(), st status) { // want acquireAudited:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	defer func() {
		if st != statusOK && rel != nil {
			rel()
			rel = nil
		}
	}()
	if st != statusOK {
		return
	}
	if err := audit(acct); err != nil {
		st = statusBackend
		return
	}
	return
}

// rel is nil where st is not statusOK (see acquireAudited).
func (g *gateway) auditedCaller(ctx context.Context, acct string) int {
	rel, st := g.acquireAudited(ctx, acct)
	if st != statusOK {
		return st.httpCode()
	}
	defer rel()
	return http.StatusOK
}
