// Package falsereports17 holds correct code in the gateway's shapes that
// lostrelease must not report: the comment on each case says why the code
// is correct.
package falsereports17

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
)

type gateway struct {
	l slots.Limiter
}

// acquireAccountSlot returns the account's slot with statusOK, and a nil
// release with any other status.
func (g *gateway) acquireAccountSlot(ctx context.Context, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := g.l.TryAcquire(ctx, "acct:"+account, 4)
	if err != nil {
		if errors.Is(err, slots.ErrFull) {
			return nil, statusFull
		}
		return nil, statusBackend
	}
	return rel, statusOK
}

type routeKey struct {
	key     string
	account string
	limit   int
}

var errFull = errors.New("full")

func serve() error { return nil }
