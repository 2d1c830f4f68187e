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
	// ErrFull is returned, wrapped in an error that names the key (test
	// for it with [errors.Is]), by TryAcquire when the key already has
	// limit holders or has waiters. errors.Is(err, ErrFull) is also true
	// for ErrQueueFull. It is [slots.ErrFull], so that a handler written
	// against [slots.Limiter] reads redisslot's errors as any other's.
	ErrFull = slots.ErrFull

	// ErrQueueFull is returned, wrapped in an error that names the key, by
	// Acquire when the key already has as many waiters as its cap allows.
	// It is [slots.ErrQueueFull].
	ErrQueueFull = slots.ErrQueueFull

	// ErrLeaseLost is the cause of a slot's context when its lease ended
	// while it was held: its member vanished from Redis (deleted from
	// outside, or lost in a restart), or no renewal was confirmed in time
	// (see Options.Lease). Another holder may already have the slot: stop
	// using what it guards. OnError hears of every lost lease of a held
	// slot through an error that wraps ErrLeaseLost. TryAcquire and Acquire
	// return an error wrapping it when Redis's reply admitting the caller
	// came too late for the slot to be held.
	ErrLeaseLost = errors.New("redisslot: lease lost")

	// ErrClosed is returned by calls on a Limiter that is closed or closing,
	// and is the cause of the contexts of slots held when Close was called.
	// It is [slots.ErrClosed].
	ErrClosed = slots.ErrClosed
)

// Load is how busy one key is across the cluster: how many hold it and how
// many wait for it. It is [slots.Load].
type Load = slots.Load

// keyError is ErrFull or ErrQueueFull naming its key.
type keyError struct {
	err       error // ErrFull or ErrQueueFull
	what, key string
}

func (e *keyError) Error() string { return "redisslot: " + e.what + " for key " + quoteKey(e.key) }
func (e *keyError) Unwrap() error { return e.err }

func fullFor(key string) error      { return &keyError{ErrFull, "no free slot", key} }
func queueFullFor(key string) error { return &keyError{ErrQueueFull, "too many waiters", key} }
func quoteKey(key string) string    { return slots.QuoteKey(key) }

// neverSent reports whether err shows that a command cannot have taken a
// slot: it never reached Redis, or Redis refused it, out of memory.
func neverSent(err error) bool {
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) || redis.HasErrorPrefix(err, "OOM") {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unreachable reports whether err, of a call whose ctx is not done, shows
// that Redis cannot be reached now (a network error, a timeout, no
// connection from the pool, a server loading its data, a cluster down),
// rather than that it answered (out of memory, WRONGTYPE, a script error).
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	for _, prefix := range []string{"LOADING", "CLUSTERDOWN", "MASTERDOWN", "TRYAGAIN"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}
