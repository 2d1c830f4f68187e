package slots

import "errors"

var (
	// ErrFull means the key has no free slot for this caller: limit
	// holders hold it, or (for TryAcquire) others already wait for it.
	// Limiters return it wrapped in an error that names the key; test for
	// it with [errors.Is].
	ErrFull = errors.New("slots: no free slot")

	// ErrQueueFull means the key already has as many waiters as its cap
	// allows. errors.Is(err, ErrFull) is true for it too, so a caller that
	// answers every refusal alike (429) needs only ErrFull.
	ErrQueueFull error = &queueFullError{}

	// ErrWaitTimeout means [AcquireWithin] waited as long as it was allowed
	// and no slot came. It is returned wrapped in an error that names the
	// key and the wait. errors.Is(err, ErrFull) is true for it too, so a
	// caller that answers every refusal alike (429) needs only ErrFull; it
	// does not match [context.DeadlineExceeded], which AcquireWithin
	// returns only when the caller's own ctx passed its deadline.
	ErrWaitTimeout error = &waitTimeoutError{}

	// ErrClosed is returned by calls on a Limiter that is closed or
	// closing, and is the cause of the contexts of slots held when Close
	// was called.
	ErrClosed = errors.New("slots: limiter closed")
)

type queueFullError struct{}

func (*queueFullError) Error() string        { return "slots: too many waiters" }
func (*queueFullError) Is(target error) bool { return target == ErrFull }

type waitTimeoutError struct{}

func (*waitTimeoutError) Error() string        { return "slots: no free slot within the wait" }
func (*waitTimeoutError) Is(target error) bool { return target == ErrFull }
