package falsereports6

import (
	"context"
	"fmt"
	"net/http"
)

// wrapErr is the derrors.Wrap idiom: `defer wrapErr(&err, "op")` wraps
// the function's error as it returns.
func wrapErr(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}

// Not reported: a call deferred directly with &err, like a deferred
// function literal, changes err only once the function has returned; no
// path of the function sees it. err is still the status of rel on every
// path, and `return err` after `err != nil` holds a nil rel.
func (g *gateway) serveWrapped(ctx context.Context, acct string) (err error) {
	defer wrapErr(&err, "serve(%q)", acct)
	_, rel, err := g.accounts.TryAcquire(ctx, acct, 4)
	if err != nil {
		return err
	}
	defer rel()
	return work(ctx)
}

type span struct{}

// end records the error of the traced call, as it returns.
func (span) end(errp *error) {}

// Not reported: a tracing span that reads the error through its address
// as the function returns; the same as above.
func (g *gateway) serveTraced(ctx context.Context, acct string) (err error) {
	var sp span
	defer sp.end(&err)
	_, rel, err := g.accounts.TryAcquire(ctx, acct, 4)
	if err != nil {
		return err
	}
	defer rel()
	return work(ctx)
}

// Not reported: the error wrapper is a function literal, deferred through
// a local variable used only so; it still runs only once the function has
// returned.
func (g *gateway) serveWrapVar(ctx context.Context, acct string) (err error) {
	wrap := func() {
		if err != nil {
			err = fmt.Errorf("serve %s: %w", acct, err)
		}
	}
	defer wrap()
	_, rel, err := g.accounts.TryAcquire(ctx, acct, 4)
	if err != nil {
		return err
	}
	defer rel()
	return work(ctx)
}

// record counts the outcome of a request.
func (s *status) record() {}

// Not reported: a pointer method of the status, deferred directly, reads
// it only once the function has returned; st is still rel's status.
func (g *gateway) serveRecorded(ctx context.Context, acct string) int {
	rel, st := g.acquireAccountSlot(ctx, acct)
	defer st.record()
	if st != statusOK {
		return http.StatusTooManyRequests
	}
	defer rel()
	return http.StatusOK
}
