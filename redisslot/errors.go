package redisslot

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/ctxguard/release/slots"
	"github.com/redis/go-redis/v9"
)

var (
	// ErrFull is returned by TryAcquire, wrapped in an error naming the key,
	// when the key already has limit holders or has waiters; ErrQueueFull
	// matches it too under [errors.Is]. It is [slots.ErrFull], so that code
	// written against [slots.Limiter] reads redisslot's errors as any other's.
	ErrFull = slots.ErrFull

	// ErrQueueFull ([slots.ErrQueueFull]) is returned by Acquire, wrapped in
	// an error naming the key, when the key's waiters are at its cap.
	ErrQueueFull = slots.ErrQueueFull

	// ErrLeaseLost is the cause of a slot's context when its lease ended
	// while held: its member vanished from Redis (deleted from outside, lost
	// in a restart), or no renewal was confirmed in time (see Options.Lease).
	// Another holder may already have the slot: stop using what it guards.
	// OnError hears of every lost lease of a held slot, in an error wrapping
	// ErrLeaseLost; TryAcquire and Acquire return one when Redis's reply
	// admitting the caller came too late for the slot to be held.
	ErrLeaseLost = errors.New("redisslot: lease lost")

	// ErrClosed ([slots.ErrClosed]) is returned by calls on a closed or
	// closing Limiter; Close cancels the contexts of held slots with it as cause.
	ErrClosed = slots.ErrClosed
)

// Load is how busy one key is across the cluster: how many hold it and how
// many wait for it. It is [slots.Load].
type Load = slots.Load

// keyError is ErrFull or ErrQueueFull naming its key.
type keyError struct {
	err       error // ErrFull, ErrQueueFull or errPanicked
	what, key string
}

func (e *keyError) Error() string { return "redisslot: " + e.what + " for key " + quoteKey(e.key) }
func (e *keyError) Unwrap() error { return e.err }

func fullFor(key string) error      { return &keyError{ErrFull, "no free slot", key} }
func queueFullFor(key string) error { return &keyError{ErrQueueFull, "too many waiters", key} }
func quoteKey(key string) string    { return slots.QuoteKey(key) }

// errPanicked is the error an acquiring call is heard to end with when it
// panics (an Options callback did).
var errPanicked = errors.New("panicked")

func panickedFor(key string) error { return &keyError{errPanicked, "a call panicked", key} }

// neverSent reports whether err shows that a command cannot have taken a
// slot: it never reached Redis, or Redis refused it before running it, out
// of memory, as a replica (READONLY), or during a resharding (TRYAGAIN).
func neverSent(err error) bool {
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) ||
		redis.HasErrorPrefix(err, "OOM") || readOnly(err) || tryAgain(err) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// readOnly reports whether err is a replica's refusal of a write: a
// connection left on a master that a failover demoted (go-redis closes
// it). It is an answer, not Redis out of reach; see health.
func readOnly(err error) bool { return redis.HasErrorPrefix(err, "READONLY") }

// tryAgain reports whether err is Redis Cluster's TRYAGAIN: while a
// resharding moves a hash slot, a call naming keys of it some of which its
// node lacks is not run (see freeMovedHolders).
func tryAgain(err error) bool { return redis.HasErrorPrefix(err, "TRYAGAIN") }

// unreachable reports whether err, of a call whose ctx is not done, shows
// that Redis cannot be reached now (a network error, a timeout, no
// connection from the pool, a server loading its data, a cluster down),
// rather than that it answered (out of memory, READONLY, WRONGTYPE, a
// script error, a resharding's TRYAGAIN: the key's master answers, and the
// share must not be served beside its holders).
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, redis.ErrPoolTimeout) ||
		redis.HasErrorPrefix(err, "LOADING") || redis.HasErrorPrefix(err, "CLUSTERDOWN") ||
		redis.HasErrorPrefix(err, "MASTERDOWN")
}
