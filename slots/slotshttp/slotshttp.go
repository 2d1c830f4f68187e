// Package slotshttp limits an [http.Handler] with a [slots.Limiter]: each
// request holds a slot of its key while the handler serves it, and gets
// 429 Too Many Requests when the key is full, 503 Service Unavailable when
// the Limiter cannot serve.
//
// Two middlewares chain for a gateway that caps requests per user and per
// account; the inner one takes its slot on the outer one's context, so the
// handler's context ends when either slot does:
//
//	perUser := slotshttp.Limit(limiter, userKey, slotshttp.Options{Wait: 2 * time.Second})
//	perAccount := slotshttp.Limit(limiter, accountKey, slotshttp.Options{})
//	http.ListenAndServe(addr, perUser(perAccount(handler)))
package slotshttp

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/ctxguard/release/slots"
)

// Options configures [Limit]. The zero value takes slots without waiting
// and answers refusals as Limit describes.
type Options struct {
	// Wait is how long a request waits in line for a slot of its key, with
	// [slots.AcquireWithin]: the wait bounds only the wait, not the slot.
	// 0 does not wait: the request takes a slot with TryAcquire or is
	// refused at once. Limit panics if Wait is negative.
	Wait time.Duration

	// RetryAfter is the Retry-After of a 429 answer, rounded up to whole
	// seconds; 0 means 1 s. Limit panics if it is negative.
	RetryAfter time.Duration

	// OnRefuse, when not nil, answers every request that gets no slot, in
	// place of the default answer, with the error that refused it: the
	// Limiter's, or one from Limit for a bad key or limit. It is called
	// also when the client is gone (r.Context() is done), and writes the
	// whole answer, or nothing.
	OnRefuse func(w http.ResponseWriter, r *http.Request, err error)
}

// Limit returns a middleware that serves each request while it holds a
// slot of the key that key returns for it, admitted against the limit key
// returns with it.
//
// A request takes its slot from l with TryAcquire when opts.Wait is 0, and
// with [slots.AcquireWithin] and opts.Wait otherwise, on r.Context(). With
// a slot, the next handler serves it with the request's context replaced
// by the slot's, which carries the request's values and ends when the
// client hangs up or l takes the slot back (the Limiter closed, a lease
// lost); the slot is released when the next handler returns, or as soon
// as the client hangs up, whichever comes first. Without one, the request
// is answered, unless opts.OnRefuse answers it instead:
//
//   - the key is full, its line is at its cap, or the wait ran out
//     (errors.Is(err, slots.ErrFull)): 429 Too Many Requests, with a
//     Retry-After header (opts.RetryAfter);
//   - the client is already gone (the request's context ended with cause
//     [context.Canceled] or [context.DeadlineExceeded]): nothing is
//     written;
//   - key returned an empty key or a limit below 1: 500 Internal Server
//     Error, with no call to l, since the request cannot be classified; to
//     limit requests that lack what the key is made of (an anonymous user),
//     give them a key of their own, and route those that need no limit
//     around the middleware;
//   - any other error, such as slots.ErrClosed, a backend's error, or the
//     end of a slot that an enclosing Limit holds for the request: 503
//     Service Unavailable.
//
// The body of each answer is the status text; the error reaches
// opts.OnRefuse only.
//
// Limit panics, with a message starting "slotshttp:", if l or key is nil
// or an option is negative; the middleware panics if its next handler is
// nil.
func Limit(l slots.Limiter, key func(*http.Request) (key string, limit int), opts Options) func(http.Handler) http.Handler {
	switch {
	case l == nil:
		panic("slotshttp: Limit called with a nil Limiter")
	case key == nil:
		panic("slotshttp: Limit called with a nil key func")
	case opts.Wait < 0:
		panic(fmt.Sprintf("slotshttp: negative Options.Wait %v", opts.Wait))
	case opts.RetryAfter < 0:
		panic(fmt.Sprintf("slotshttp: negative Options.RetryAfter %v", opts.RetryAfter))
	}
	retryAfter := int64(1)
	if opts.RetryAfter > 0 {
		retryAfter = int64((opts.RetryAfter + time.Second - 1) / time.Second)
	}
	lim := limiter{l: l, key: key, wait: opts.Wait, retryAfter: strconv.FormatInt(retryAfter, 10), onRefuse: opts.OnRefuse}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("slotshttp: Limit's middleware called with a nil handler")
		}
		return &handler{limiter: lim, next: next}
	}
}

// limiter is what Limit was given, shared by the handlers it wraps.
type limiter struct {
	l          slots.Limiter
	key        func(*http.Request) (string, int)
	wait       time.Duration
	retryAfter string // seconds
	onRefuse   func(http.ResponseWriter, *http.Request, error)
}

// A handler serves next while a request holds its slot.
type handler struct {
	limiter
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, limit := h.key(r)
	if key == "" || limit < 1 {
		h.refuse(w, r, &badKeyError{key, limit})
		return
	}
	ctx, release, err := slots.AcquireWithin(r.Context(), h.l, key, limit, h.wait) // TryAcquire for a wait of 0
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	defer release()
	h.next.ServeHTTP(w, r.WithContext(ctx))
}

// badKeyError is the refusal of a request whose key func returned an
// empty key or a limit below 1.
type badKeyError struct {
	key   string
	limit int
}

func (e *badKeyError) Error() string {
	return fmt.Sprintf("slotshttp: key func returned key %s and limit %d; want a key and a limit of at least 1", slots.QuoteKey(e.key), e.limit)
}
