// Package falsereports13 holds correct code in the gateway's shapes that
// lostrelease reports today: the comment on each case says why the code
// is correct. None carries a want for the report it gets.
package falsereports13

import (
	"context"
	"errors"
	"time"

	"github.com/ctxguard/release/slots"
)

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}

type status int

const (
	statusOK status = iota
	statusFull
)

var errFull = errors.New("full")

// Err returns nil for statusOK and errFull otherwise.
func (s status) Err() error {
	if s == statusOK {
		return nil
	}
	return errFull
}

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

// A slotResult says whether a slot was granted, and the HTTP code to
// answer with.
type slotResult struct {
	granted bool
	code    int
}

// ok reports whether the slot was granted.
func (r slotResult) ok() bool { return r.granted }

func acquireResult(ctx context.Context, l slots.Limiter, account string) (func(), slotResult) { // want acquireResult:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if err != nil {
		return nil, slotResult{code: 429}
	}
	return rel, slotResult{granted: true, code: 200}
}

func (h *handler) serve() error { return nil }

// A timeoutError is what the account's backend returns when it gives up.
type timeoutError struct{ after time.Duration }

func (e timeoutError) Error() string { return "account backend: timed out" }

// A backendError wraps the account backend's own error.
type backendError struct{ err error }

func (e *backendError) Error() string { return "account backend: " + e.err.Error() }

// A degradedError says the limiter could not reach its backend and lets
// the request through without a slot.
type degradedError struct{}

func (degradedError) Error() string { return "account backend: degraded" }
