package missedleaks13

import (
	"context"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// acquireAuditedErr returns rel beside statusFull where err is not nil,
// but err is not TryAcquire's there alone: the audit that follows a
// granted slot sets it too, and rel then holds the slot.
func acquireAuditedErr(ctx context.Context, l slots.Limiter, key string) (func(), status) { // want acquireAuditedErr:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, key, 4)
	if err == nil {
		err = audit(key)
	}
	if err != nil {
		return rel, statusFull
	}
	return rel, statusOK
}

// The refusal return drops the slot a failed audit leaves in rel.
func auditedErrCaller(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireAuditedErr(ctx, l, "k") // want `the release function returned by acquireAuditedErr is not used on all paths`
	if st != statusOK {
		return st.httpCode() // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}

// acquireChecked returns rel beside statusFull where TryAcquire failed,
// and rel is nil there; but beside statusBackend where the audit's own err
// failed, and rel holds the slot.
func acquireChecked(ctx context.Context, l slots.Limiter, key string) (func(), status) { // want acquireChecked:"returnsGuard\\[0\\] 0:\\{1=0\\|2\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, key, 4)
	if err != nil {
		return rel, statusFull
	}
	if err := audit(key); err != nil {
		return rel, statusBackend
	}
	return rel, statusOK
}

// The return under statusBackend drops the slot.
func checkedCaller(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireChecked(ctx, l, "k") // want `the release function returned by acquireChecked is not used on all paths`
	if st == statusBackend {
		return http.StatusServiceUnavailable // want `this return statement may be reached without using the release function rel`
	}
	if st != statusOK {
		return st.httpCode()
	}
	defer rel()
	return http.StatusOK
}

// acquireFallback takes the account's slot or, where the account is full,
// one of the shared pool's, returned with statusFull: rel holds the pool's
// slot there, assigned by the second TryAcquire.
func acquireFallback(ctx context.Context, l slots.Limiter, acct string) (func(), status) { // want acquireFallback:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+acct, 4)
	if err != nil {
		_, rel, err = l.TryAcquire(ctx, "pool", 64)
		if err != nil {
			return nil, statusBackend
		}
		return rel, statusFull
	}
	return rel, statusOK
}

// The refusal return drops the pool's slot.
func fallbackCaller(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireFallback(ctx, l, "a") // want `the release function returned by acquireFallback is not used on all paths`
	if st != statusOK {
		return st.httpCode() // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return http.StatusOK
}
