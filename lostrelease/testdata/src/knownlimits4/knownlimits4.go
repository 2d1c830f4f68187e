// Package knownlimits4 holds code in the gateway's shapes that lostrelease
// gets wrong today, each with the comment that says why: correct code it
// reports (each report wanted, so that a change that lifts the limit
// shows), and a leak it misses.
package knownlimits4

import (
	"context"
	"errors"
	"net/http"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

// httpCode is the response a status gets.
func (s status) httpCode() int { // want httpCode:"isPredicate maps:200=0,429=1,503=!0\\|1"
	switch s {
	case statusOK:
		return http.StatusOK
	case statusFull:
		return http.StatusTooManyRequests
	}
	return http.StatusServiceUnavailable
}

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

// acquireUserSlot is the same for the user's slot.
func (g *gateway) acquireUserSlot(ctx context.Context, user string) (func(), status) { // want acquireUserSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := g.l.TryAcquire(ctx, "user:"+user, 2)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}
