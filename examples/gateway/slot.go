package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// status is the outcome of taking a slot. Its helpers return a nil release
// unless the status is statusOK.
type status uint8

const (
	statusOK            status = iota
	statusFull                 // the key already has limit holders
	statusQueueFull            // the key's line of waiters is at its cap
	statusWaitedTooLong        // no slot came within the wait
	statusGone                 // the caller's ctx ended first: the client hung up
	statusClosed               // the limiter is closed
	statusBackendError         // the limiter's backend (Redis) failed
)

func (s status) String() string {
	switch s {
	case statusOK:
		return "ok"
	case statusFull:
		return "full"
	case statusQueueFull:
		return "queue full"
	case statusWaitedTooLong:
		return "waited too long"
	case statusGone:
		return "client gone"
	case statusClosed:
		return "closed"
	case statusBackendError:
		return "backend error"
	}
	return "unknown status"
}

// httpCode is the response a refusal gets: 429 when the caller may try
// again soon, 503 when the gateway cannot serve at all.
func (s status) httpCode() int {
	switch s {
	case statusFull, statusQueueFull, statusWaitedTooLong:
		return http.StatusTooManyRequests
	case statusOK:
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

// statusOf reads an error of a [slots.Limiter] call made with ctx.
func statusOf(ctx context.Context, err error) status {
	switch {
	case errors.Is(err, slots.ErrQueueFull): // before ErrFull, which it matches too
		return statusQueueFull
	case errors.Is(err, slots.ErrWaitTimeout): // before ErrFull, which it matches too
		return statusWaitedTooLong
	case errors.Is(err, slots.ErrFull):
		return statusFull
	case errors.Is(err, slots.ErrClosed):
		return statusClosed
	case ctx.Err() != nil:
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, slots.ErrClosed):
			return statusClosed // ctx is a slot's context, taken back by Close
		case errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
			return statusGone
		}
	}
	return statusBackendError
}

// Keys of the two kinds of slot.
func userKey(user string) string       { return "user:" + user }
func accountKey(account string) string { return "account:" + account }

// acquireUserSlot takes one of the user's slots, waiting in line, at most
// limits.userWait, while the user has limits.user requests in flight. It
// returns the slot's context, done when ctx is done or the slot is taken
// back (the wait bounds only the wait), and the slot's release, nil unless
// the status is statusOK.
func (g *gateway) acquireUserSlot(ctx context.Context, user string) (context.Context, func(), status) {
	key := userKey(user)
	sctx, release, err := slots.AcquireWithin(ctx, g.limiter, key, g.limits.user, g.limits.userWait)
	if err != nil {
		return nil, nil, statusOf(ctx, err)
	}
	g.tracker.held(key, g.limits.user, sctx)
	return sctx, release, statusOK
}

// acquireAccountSlot takes one of the account's slots without waiting:
// statusFull when the account has limits.account requests in flight.
func (g *gateway) acquireAccountSlot(ctx context.Context, account string) (context.Context, func(), status) {
	key := accountKey(account)
	sctx, release, err := g.limiter.TryAcquire(ctx, key, g.limits.account)
	if err != nil {
		return nil, nil, statusOf(ctx, err)
	}
	g.tracker.held(key, g.limits.account, sctx)
	return sctx, release, statusOK
}
