// Package missedleaks6 holds wrong code in the gateway's shapes that
// lostrelease does not report today; each want is what it should report.
package missedleaks6

import (
	"context"
	"time"

	"github.com/ctxguard/release/slots"
)

func work(ctx context.Context) error { return ctx.Err() }

type gateway struct {
	accounts slots.Limiter
	wait     time.Duration
}

// accountSlot takes its slot on its ctx parameter and returns it through
// its named results with a bare return.
func (g *gateway) accountSlot(ctx context.Context, acct string) (rel func(), err error) { // want accountSlot:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err = g.accounts.TryAcquire(ctx, acct, 4)
	return
}

// Reported (short ctx): the slot accountSlot takes on the short ctx is
// freed as the function returns, while its caller holds it.
func (g *gateway) accountSlotWithin(ctx context.Context, acct string) (func(), error) { // want accountSlotWithin:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	rel, err := g.accountSlot(ctx, acct) // want `the guard's ctx is cancelled by the deferred cancel when gateway.accountSlotWithin returns: it fires then`
	return rel, err
}
