// Package missedleaks14 holds leaks in the gateway's shapes that
// lostrelease must report.
package missedleaks14

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

type gateway struct {
	l slots.Limiter
}

// acquireAccountSlot returns the account's slot with statusOK, and a nil
// release with any other status.
func (g *gateway) acquireAccountSlot(ctx context.Context, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := g.l.TryAcquire(ctx, "acct:"+account, 4)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}
