package redisslot

import (
	"errors"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"
)

var (
	// ErrFull is returned, wrapped in an error that names the key (test
	// for it with [errors.Is]), by TryAcquire when the key already has
	// limit holders, and by Acquire when Options.MaxWaiters waiters already
	// wait for the key on this Limiter.
	ErrFull = errors.New("redisslot: no free slot")

	// ErrLeaseLost is the cause of a slot's context when the slot's lease
	// ended while it was still held: its member vanished from Redis (deleted
	// from outside, or lost in a Redis restart), or no renewal was confirmed
	// for a whole Lease. Another holder may already have the slot; stop
	// using what it guards. OnError hears of every lost lease through an
	// error that wraps ErrLeaseLost.
	ErrLeaseLost = errors.New("redisslot: lease lost")

	// ErrClosed is returned by calls on a Limiter that is closed or closing,
	// and is the cause of the contexts of slots held when Close was called.
	ErrClosed = errors.New("redisslot: limiter closed")
)

// fullError is ErrFull for one key, so that a caller holding several kinds
// of slot can tell which was full.
type fullError struct{ key string }

func (e *fullError) Error() string        { return fmt.Sprintf("redisslot: no free slot of key %q", e.key) }
func (e *fullError) Is(target error) bool { return target == ErrFull }

// named returns err, naming key if err is ErrFull.
func named(err error, key string) error {
	if err == ErrFull {
		return &fullError{key}
	}
	return err
}

// neverSent reports whether err shows that a command never reached Redis
// (no connection could be had), so it cannot have taken a slot.
func neverSent(err error) bool {
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
