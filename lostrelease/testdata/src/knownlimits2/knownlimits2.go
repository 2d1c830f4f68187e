// Package knownlimits2 holds more of doc.go's known limits: correct code
// that the analyzer still reports (a status reached through an interface
// or a struct field, a bool copy of a nil check, a copy of a status read
// after the status was reused, a two-slot helper that gives the first slot
// back on a case list or an ordered comparison, a named status set in a
// switch and read before a bare return, a float flag, a no-op release
// that is not empty or of another package), and a leak it does not
// report (a guard held in a named result of a function with a recover in
// a function literal). Each report is wanted, so that a change that lifts
// a limit shows.
package knownlimits2

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

func statusOf(err error) status { // want statusOf:"isPredicate maps:1=!nil,2=!$"
	if errors.Is(err, slots.ErrFull) {
		return statusFull
	}
	return statusBackend
}

func step() error { return nil }

func acquireUserSlot(ctx context.Context, l slots.Limiter, user string) (func(), status) { // want acquireUserSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, "user:"+user, 2)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}

func (s status) httpCode() int { // want httpCode:"isPredicate maps:200=0,429=1,502=!0\\|1"
	switch s {
	case statusOK:
		return http.StatusOK
	case statusFull:
		return http.StatusTooManyRequests
	}
	return http.StatusBadGateway
}
