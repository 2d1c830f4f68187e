// Package slots is the one small interface through which a service takes
// concurrency slots per key, whether the slots live in this process
// ([Local], made with [NewLocal]) or are shared by every instance through
// Redis (package github.com/ctxguard/release/redisslot). A handler written
// against [Limiter] moves from one instance to many by changing the one
// constructor.
//
// Every slot comes with a release guard, built with
// [github.com/ctxguard/release.WrapOnDone]: it frees the slot exactly once,
// on its first call or as soon as the slot's context is done (the client
// hung up, the deadline passed, the Limiter closed), whichever comes first.
//
// The slot's context is done when the Limiter takes the slot back (closed;
// for redisslot, a lost lease), and the guarded work must stop then: do it
// under that context. A helper that returns only the release drops it.
package slots

import "context"

// A Limiter hands out concurrency slots per key: at no time do more than
// limit holders hold a key. Implementations are safe for concurrent use.
type Limiter interface {
	// TryAcquire takes a slot of key if fewer than limit hold it and no
	// caller waits for it, and returns an error wrapping ErrFull at once
	// otherwise. On success it returns the slot's context, which carries
	// ctx's values and is done when ctx is done, when release is called, or
	// when the slot is taken back (the Limiter closed: cause ErrClosed),
	// and the slot's release, a guard that frees it exactly once. On error
	// both are nil.
	TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error)

	// Acquire takes a slot as TryAcquire does, waiting in line while the
	// key is full, until a slot is its, ctx is done (it returns ctx.Err()),
	// or the Limiter closes (ErrClosed). Waiters are served in the order
	// they came. When the key's queue is at its cap, it returns an error
	// wrapping ErrQueueFull at once.
	Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error)

	// InUse returns how many hold key now.
	InUse(ctx context.Context, key string) (int, error)

	// Load returns, for each key in order, how many hold it and how many
	// wait for it.
	Load(ctx context.Context, keys ...string) ([]Load, error)

	// Close ends every wait with ErrClosed, ends the context of every slot
	// held with cause ErrClosed, frees those slots, and makes later calls
	// return ErrClosed. It is safe to call more than once.
	Close() error
}

// Load is how busy one key is: how many hold it and how many wait for it.
type Load struct {
	Key     string // the key, as the caller gave it
	InUse   int    // slots of the key held now, as the Limiter counts them (see Limiter.Load)
	Waiting int    // calls waiting for a slot of the key now
}
