package slots

import (
	"context"
	"fmt"
	"sync"
)

// LocalOptions configures a [Local]. The zero value is ready to use: no cap
// on waiters.
type LocalOptions struct {
	// MaxWaiters, when positive, caps how many Acquire calls may wait for
	// one key at once: a further Acquire of that key returns an error
	// wrapping ErrQueueFull at once instead of joining the line. 0 means no
	// cap. NewLocal panics if it is negative.
	MaxWaiters int

	// MaxWaitersFor, when not nil, gives the cap of one key: its result for
	// (key, limit), when positive, replaces MaxWaiters for that call; 0 or
	// less falls back to MaxWaiters. MaxWaitersFor is called at most once
	// per Acquire call, and only by one that finds the key full and is
	// about to join its line: never by TryAcquire, by an Acquire admitted
	// at once, or again while a call waits or retries. It must be safe for
	// concurrent use. Local calls it without any lock held, so it may be
	// slow.
	MaxWaitersFor func(key string, limit int) int
}

// Local is a [Limiter] whose slots live in this process: for each key, a
// counting semaphore. It keeps, on one instance, the promises that package
// redisslot keeps across a cluster, so that a handler written against
// [Limiter] moves to Redis by changing the one constructor.
//
// Guarantees:
//
//   - At no time do more callers hold a key than the limit they passed:
//     each caller is admitted against its own limit, so callers that pass
//     different limits for one key share its holders, and a caller passing
//     3 is refused once 3 hold the key even if one passing 5 would still be
//     admitted.
//   - Waiters of a key are served strictly in the order their Acquire calls
//     joined the line (first in, first out). When the oldest waiter's limit
//     does not admit it yet, the waiters behind it wait too, even those
//     whose larger limit would admit them, and TryAcquire refuses while any
//     caller waits, as [golang.org/x/sync/semaphore] does: nobody jumps the
//     queue, so no waiter starves.
//   - Each slot comes with a context and a release guard made with
//     [github.com/ctxguard/release.WrapOnDoneCause]: the slot is freed
//     exactly once, on the first call of its release, as soon as the
//     caller's ctx is done, or when Close takes it back, whichever comes
//     first; its context is done by then, with the cause of whichever came
//     first.
//   - Local starts no goroutine of its own: not per slot, not per waiter (a
//     waiting Acquire waits on its caller's goroutine), not per key, as
//     long as the contexts passed in are from the context package or wrap
//     one without replacing Done (as [context.WithValue] and a net/http
//     request context do). For any other Context, [context.AfterFunc] and
//     [context.WithCancelCause] park a goroutine per slot that lives until
//     the slot is freed.
//   - A key that nobody holds or waits for takes no memory: its state is
//     dropped with its last holder or waiter, and the table of keys shrinks
//     after a burst of many keys.
//   - All methods are safe for concurrent use.
//
// The zero value is a Local with no cap on waiters. A Local must not be
// copied after first use.
type Local struct {
	maxWaiters    int
	maxWaitersFor func(key string, limit int) int

	mu     sync.Mutex
	keys   map[string]*keyState // keys held or waited for; nil until first use, and once closed
	peak   int                  // most keys held in keys since it was made
	closed bool

	closeOnce sync.Once
}

var _ Limiter = (*Local)(nil)

// NewLocal returns a Local configured by opts. It panics, with a message
// starting "slots:", if opts.MaxWaiters is negative.
func NewLocal(opts LocalOptions) *Local {
	if opts.MaxWaiters < 0 {
		panic(fmt.Sprintf("slots: negative LocalOptions.MaxWaiters %d", opts.MaxWaiters))
	}
	return &Local{maxWaiters: opts.MaxWaiters, maxWaitersFor: opts.MaxWaitersFor}
}

// TryAcquire takes a slot of key if fewer than limit callers hold it and
// no caller waits for it; otherwise it returns at once an error that wraps
// ErrFull and names the key.
//
// On success it returns the slot's context and its release:
//
//   - The slot's context carries ctx's values. It is done when ctx is done
//     (its cause is ctx's cause), when release is called (cause
//     [context.Canceled]), or when l is closed (cause ErrClosed); read the
//     cause with [context.Cause]. It is done before the slot goes to anyone
//     else.
//   - release is a guard made by
//     [github.com/ctxguard/release.WrapOnDoneCause] on ctx: the slot is
//     freed exactly once, on the first call of release, as soon as ctx is
//     done, or when Close takes it back, whichever comes first; later calls
//     do nothing. It keeps every guarantee of WrapOnDone: when a call of
//     release returns, the slot is free, and it is safe for concurrent use.
//     Freeing is a few steps under l's lock: it hands the slot to the oldest
//     waiters that the key's holders now admit, whose Acquire calls then
//     return on their own goroutines.
//
// On an error both are nil. The errors are, checked in this order: an
// error saying that key is empty, or that limit is less than 1; ErrClosed
// once Close has been called; ctx.Err() if ctx is already done; ErrFull
// (wrapped).
//
// TryAcquire panics if ctx is nil.
func (l *Local) TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	if ctx == nil {
		panic("slots: TryAcquire called with a nil Context")
	}
	if err := checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	l.mu.Lock()
	if err := l.refuse(ctx); err != nil {
		l.mu.Unlock()
		return nil, nil, err
	}
	k := l.keys[key]
	if k != nil && !k.admits(limit) {
		l.mu.Unlock()
		return nil, nil, &keyError{ErrFull, key}
	}
	s := l.hold(l.key(k, key), ctx)
	l.mu.Unlock()
	return s.ctx, s.guard(ctx), nil
}

// Acquire takes a slot of key as TryAcquire does. While the key is full, or
// others already wait for it, it joins the back of the key's line and waits
// on the calling goroutine until the slot is its, ctx is done, or l is
// closed. It returns what TryAcquire returns, except that instead of
// ErrFull:
//
//   - when ctx is done first it returns ctx.Err() at once and leaves the
//     line; if a slot was handed to it at that moment, it hands the slot on
//     to the next waiter, so no slot is lost;
//   - when l is closed it returns ErrClosed;
//   - when the key's line is at its cap (LocalOptions.MaxWaiters or
//     MaxWaitersFor), it returns at once an error that wraps ErrQueueFull
//     (errors.Is(err, ErrFull) is true too) and names the key.
//
// Acquire panics if ctx is nil.
func (l *Local) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	if ctx == nil {
		panic("slots: Acquire called with a nil Context")
	}
	if err := checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	maxWaiters, known := l.maxWaiters, l.maxWaitersFor == nil
	for {
		l.mu.Lock()
		if err := l.refuse(ctx); err != nil {
			l.mu.Unlock()
			return nil, nil, err
		}
		k := l.keys[key]
		if k == nil || k.admits(limit) {
			s := l.hold(l.key(k, key), ctx)
			l.mu.Unlock()
			return s.ctx, s.guard(ctx), nil
		}
		if !known { // ask without the lock, then look again
			l.mu.Unlock()
			if n := l.maxWaitersFor(key, limit); n > 0 {
				maxWaiters = n
			}
			known = true
			continue
		}
		if maxWaiters > 0 && k.waiters.Len() >= maxWaiters {
			l.mu.Unlock()
			return nil, nil, &keyError{ErrQueueFull, key}
		}
		w := k.join(ctx, limit)
		l.mu.Unlock()
		return l.wait(ctx, k, w)
	}
}

// refuse returns ErrClosed if l is closed, else ctx.Err(): the checks
// before a slot, in this order. l.mu must be held.
func (l *Local) refuse(ctx context.Context) error {
	if l.closed {
		return ErrClosed
	}
	return ctx.Err()
}

// InUse returns how many callers hold key now. It returns ErrClosed once
// Close has been called, and an error if key is empty. Local answers at
// once: ctx is not read. InUse panics if ctx is nil.
func (l *Local) InUse(ctx context.Context, key string) (int, error) {
	if ctx == nil {
		panic("slots: InUse called with a nil Context")
	}
	if key == "" {
		return 0, errEmptyKey
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if k := l.keys[key]; k != nil {
		return k.held, nil
	}
	return 0, nil
}

// Load returns, for each of keys in order (a key given twice is counted
// twice), how many callers hold it and how many Acquire calls wait for it,
// all read at one instant. It returns ErrClosed once Close has been called,
// and an error if a key is empty. Local answers at once: ctx is not read.
// Load panics if ctx is nil.
func (l *Local) Load(ctx context.Context, keys ...string) ([]Load, error) {
	if ctx == nil {
		panic("slots: Load called with a nil Context")
	}
	for _, key := range keys {
		if key == "" {
			return nil, errEmptyKey
		}
	}
	loads := make([]Load, len(keys))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	for i, key := range keys {
		loads[i].Key = key
		if k := l.keys[key]; k != nil {
			loads[i].InUse, loads[i].Waiting = k.held, k.waiters.Len()
		}
	}
	return loads, nil
}

// Close closes l. When the first call of Close returns:
//
//   - every later call of l's methods returns ErrClosed, and every Acquire
//     that was waiting has returned, or is returning, ErrClosed;
//   - the context of every slot held is done with cause ErrClosed, and the
//     slot is taken back: its release then does nothing and returns at
//     once;
//   - l holds no memory for any key.
//
// Close always returns nil. It is safe to call more than once and from
// several goroutines: every call returns once the first has done the above.
func (l *Local) Close() error {
	l.closeOnce.Do(l.close)
	return nil
}

func (l *Local) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, k := range l.keys {
		k.closeWaiters()
		k.takeBackSlots()
	}
	l.keys, l.peak = nil, 0
}
