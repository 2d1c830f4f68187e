package missedleaks13

import (
	"context"
	"net/http"
)

// acquireAuditedBackend's deferred closure gives the slot back only where
// st is statusBackend, but a failed audit returns statusFull: rel holds
// the slot there.
func (g *gateway) acquireAuditedBackend(ctx context.Context, acct string) (rel func(), st status) { // want acquireAuditedBackend:"returnsGuard\\[0\\]$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	defer func() {
		if st == statusBackend && rel != nil {
			rel()
			rel = nil
		}
	}()
	if st != statusOK {
		return
	}
	if err := audit(acct); err != nil {
		st = statusFull
		return
	}
	return
}

// The return under statusFull drops the slot of a failed audit.
func (g *gateway) auditedBackendCaller(ctx context.Context, acct string) int {
	rel, st := g.acquireAuditedBackend(ctx, acct) // want `the release function returned by gateway.acquireAuditedBackend is not used on all paths`
	if st == statusFull {
		return http.StatusTooManyRequests // want `this return statement may be reached without using the release function rel`
	}
	if rel != nil {
		rel()
	}
	return http.StatusOK
}

// acquireAuditedEarly returns before it defers the closure where a strict
// audit fails: the closure does not run, and rel holds the slot beside
// statusBackend.
func (g *gateway) acquireAuditedEarly(ctx context.Context, acct string, strict bool) (rel func(), st status) { // want acquireAuditedEarly:"returnsGuard\\[0\\]$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	if strict && st == statusOK {
		if err := audit(acct); err != nil {
			st = statusBackend
			return
		}
	}
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
	}
	return
}

// The refusal return drops the slot of a failed strict audit.
func (g *gateway) auditedEarlyCaller(ctx context.Context, acct string) int {
	rel, st := g.acquireAuditedEarly(ctx, acct, true) // want `the release function returned by gateway.acquireAuditedEarly is not used on all paths`
	if st != statusOK {
		return st.httpCode() // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}

// acquireAuditedIf defers the closure only where the audit is strict:
// else a failed audit returns rel, holding the slot, beside
// statusBackend.
func (g *gateway) acquireAuditedIf(ctx context.Context, acct string, strict bool) (rel func(), st status) { // want acquireAuditedIf:"returnsGuard\\[0\\]$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	if strict {
		defer func() {
			if st != statusOK && rel != nil {
				rel()
				rel = nil
			}
		}()
	}
	if st != statusOK {
		return
	}
	if err := audit(acct); err != nil {
		st = statusBackend
	}
	return
}

// The refusal return drops the slot of a failed audit that is not strict.
func (g *gateway) auditedIfCaller(ctx context.Context, acct string) int {
	rel, st := g.acquireAuditedIf(ctx, acct, false) // want `the release function returned by gateway.acquireAuditedIf is not used on all paths`
	if st != statusOK {
		return st.httpCode() // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}

// acquireAuditedNested's closure clears rel only in an inner if, where
// st is statusBackend: a failed audit returns statusFull, and rel holds
// the slot there.
func (g *gateway) acquireAuditedNested(ctx context.Context, acct string) (rel func(), st status) { // want acquireAuditedNested:"returnsGuard\\[0\\]$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	defer func() {
		if st != statusOK && rel != nil {
			if st == statusBackend {
				rel()
				rel = nil
			}
		}
	}()
	if st != statusOK {
		return
	}
	if err := audit(acct); err != nil {
		st = statusFull
	}
	return
}

// The refusal return drops the slot of a failed audit.
func (g *gateway) auditedNestedCaller(ctx context.Context, acct string) int {
	rel, st := g.acquireAuditedNested(ctx, acct) // want `the release function returned by gateway.acquireAuditedNested is not used on all paths`
	if st != statusOK {
		return st.httpCode() // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}

// acquireAuditedKept's closure returns before it clears rel where st is
// statusFull, which a failed audit returns: rel holds the slot there.
func (g *gateway) acquireAuditedKept(ctx context.Context, acct string) (rel func(), st status) { // want acquireAuditedKept:"returnsGuard\\[0\\]$"
	rel, st = g.acquireAccountSlot(ctx, acct)
	defer func() {
		if st != statusOK && rel != nil {
			if st == statusFull {
				return
			}
			rel()
			rel = nil
		}
	}()
	if st != statusOK {
		return
	}
	if err := audit(acct); err != nil {
		st = statusFull
	}
	return
}

// The refusal return drops the slot of a failed audit.
func (g *gateway) auditedKeptCaller(ctx context.Context, acct string) int {
	rel, st := g.acquireAuditedKept(ctx, acct) // want `the release function returned by gateway.acquireAuditedKept is not used on all paths`
	if st != statusOK {
		return st.httpCode() // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}
