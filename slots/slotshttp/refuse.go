package slotshttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// refuse answers a request that got no slot, for err.
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if h.onRefuse != nil {
		h.onRefuse(w, r, err)
		return
	}
	code := statusFor(r, err)
	if code == 0 {
		return
	}
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", h.retryAfter)
	}
	http.Error(w, http.StatusText(code), code)
}

// statusFor returns the status of the default answer to a request refused
// with err, or 0 when nobody is left to answer.
func statusFor(r *http.Request, err error) int {
	if clientGone(r) {
		return 0
	}
	var bad *badKeyError
	switch {
	case errors.Is(err, slots.ErrFull):
		return http.StatusTooManyRequests
	case errors.As(err, &bad):
		return http.StatusInternalServerError
	}
	return http.StatusServiceUnavailable
}

// clientGone reports whether r's client hung up or its deadline passed. A
// request context that ended for another cause is the context of a slot
// that an enclosing Limit holds, taken back: the client is still there.
func clientGone(r *http.Request) bool {
	ctx := r.Context()
	if ctx.Err() == nil {
		return false
	}
	cause := context.Cause(ctx)
	return errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded)
}
