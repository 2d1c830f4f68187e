// Package falsereports6 holds correct code in the gateway's shapes that
// the analyzer reports: each report below is a false report, pinned with
// a want so that a fix can flip it. The comment on each case says why the
// code is correct.
package falsereports6

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
	statusDisabled
)

func work(ctx context.Context) error { return ctx.Err() }

type gateway struct {
	accounts slots.Limiter
}

// noop is the release a helper hands out when it holds nothing, so that
// its callers may always call, or defer, what it returns.
func noop() {}

// acquireAccountSlot never returns a nil release: on every refusal, and
// with limiting disabled, it returns noop, which holds nothing.
func (g *gateway) acquireAccountSlot(ctx context.Context, acct string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	if g.accounts == nil {
		return noop, statusDisabled
	}
	_, rel, err := g.accounts.TryAcquire(ctx, "acct:"+acct, 4)
	if err != nil {
		if errors.Is(err, slots.ErrFull) {
			return noop, statusFull
		}
		return noop, statusBackend
	}
	return rel, statusOK
}
