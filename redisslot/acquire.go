package redisslot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ctxguard/release"
)

// TryAcquire takes a slot of key if fewer than limit holders hold it across
// all instances, and returns ErrFull at once otherwise. The check and the
// take are one atomic script in Redis, timed by Redis's clock.
//
// On success it returns the slot's context and its release:
//
//   - The slot's context carries ctx's values. It is done when ctx is done,
//     when release is called (cause [context.Canceled]), when the slot's
//     lease is lost (cause ErrLeaseLost), or when l is closed (cause
//     ErrClosed); read the cause with [context.Cause]. It is done before the
//     call that frees the slot is sent.
//   - release is a guard made by [release.WrapOnDone] on the slot's
//     context: it frees the slot exactly once, on its first call or as soon
//     as that context is done, whichever comes first, and later calls do
//     nothing. It is safe for concurrent use.
//   - Freeing is one round trip, made with ctx's values but not its
//     cancellation ([context.WithoutCancel]) and bounded by ReleaseTimeout.
//     A call of release waits for it, as a guard waits for its function:
//     with a slow Redis a deferred release takes up to ReleaseTimeout. A
//     failed free goes to OnError, and the slot frees itself when its lease
//     ends.
//   - While the slot is held, l renews its lease in the background.
//
// On an error it returns a nil context and a nil release. The errors are
// ErrFull; ErrClosed once Close has been called; ctx's error when ctx is
// done; an error saying what is wrong with key (empty) or limit (below 1);
// or a Redis error, wrapped so that [errors.Is] works, naming the key. An
// acquire whose outcome is unknown (its reply was lost) leaves no slot
// behind: the member it may have added is freed, or ends with its lease.
//
// Each caller is admitted against the limit it passes: callers that pass
// different limits for one key share its holders, and a caller passing 3
// is refused once 3 hold the key even if another, passing 5, would still be
// admitted.
//
// TryAcquire panics if ctx is nil.
func (l *Limiter) TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	if ctx == nil {
		panic("redisslot: TryAcquire called with a nil Context")
	}
	if err := checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	if !l.enter() {
		return nil, nil, ErrClosed
	}
	defer l.wg.Done()
	sctx, rel, err := l.try(ctx, key, l.prefix+key, limit)
	return sctx, rel, named(err, key)
}

// Acquire takes a slot of key as TryAcquire does, waiting while the key is
// full until a slot frees, ctx is done, or l is closed. It returns what
// TryAcquire returns, except ErrFull, which it returns only when
// Options.MaxWaiters others already wait for key on l. When ctx is done it
// returns at once with ctx.Err(); when l is closed, ErrClosed.
//
// Waiting costs no polling by every waiter:
//
//   - A release on any instance publishes a wake-up on the key's channel in
//     the same call that frees the slot. l listens on one pub/sub
//     connection, subscribed to the keys its Acquire calls wait for and no
//     others, and wakes its waiters of the key oldest first, only as many
//     as slots were freed.
//   - A woken waiter that loses the slot to another instance keeps its
//     place and waits again.
//   - Because a wake-up can be lost (pub/sub does not queue, and a lease
//     that ends frees a slot silently), the oldest waiter of each key on l
//     also tries again after a random time in the upper half of the retry
//     interval, min(Lease/3, 1s). When such a try takes a slot, more may
//     have freed silently with it, so the next waiter tries at once, and so
//     on while they succeed. So a slot does not sit free for longer than
//     that interval while a waiter waits.
//
// Waiters that arrive while others on l wait for key queue behind them
// without trying first. Acquire leaves nothing behind when it returns: no
// goroutine, and no subscription for a key that nobody on l waits for.
//
// Acquire panics if ctx is nil.
func (l *Limiter) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	if ctx == nil {
		panic("redisslot: Acquire called with a nil Context")
	}
	if err := checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	if !l.enter() {
		return nil, nil, ErrClosed
	}
	defer l.wg.Done()

	rkey := l.prefix + key
	channel := wakeChannel(rkey)
	if !l.waiting.has(channel) {
		sctx, rel, err := l.try(ctx, key, rkey, limit)
		if err != ErrFull {
			return sctx, rel, err
		}
	}
	w, err := l.waiting.join(channel, l.maxWaiters, l.startSubscriber)
	if err != nil {
		return nil, nil, named(err, key)
	}
	return l.await(ctx, w, key, rkey, limit)
}

// await waits in w's place until w takes a slot of key, ctx is done, or l
// is closed, and then leaves the queue. A due wake-up makes w try; the
// oldest waiter also tries on its retry timer.
func (l *Limiter) await(ctx context.Context, w *waiter, key, rkey string, limit int) (context.Context, func(), error) {
	var retry retryTimer
	defer retry.stop()
	for {
		tryNow, probe, head := l.waiting.next(w)
		if tryNow {
			sctx, rel, err := l.try(ctx, key, rkey, limit)
			if err != ErrFull {
				l.leave(w, probe && err == nil)
				return sctx, rel, err
			}
			retry.armed = false // lost the race: wait again, in the same place
		}
		if head {
			retry.arm(l.retry)
		}
		select {
		case <-ctx.Done():
			l.leave(w, false)
			return nil, nil, ctx.Err()
		case <-l.closing:
			l.leave(w, false)
			return nil, nil, ErrClosed
		case <-w.notify:
		case <-retry.c():
			retry.armed = false
			l.waiting.probe(w)
		}
	}
}

// leave takes w out of its queue, and tells the subscriber when that left
// the key with no local waiter.
func (l *Limiter) leave(w *waiter, probeNext bool) {
	if l.waiting.leave(w, probeNext) {
		l.resync()
	}
}

// A retryTimer is the oldest waiter's timer for trying on its own.
type retryTimer struct {
	t     *time.Timer
	armed bool
}

// arm starts the timer, if it is not running, for a random time in the
// upper half of interval.
func (r *retryTimer) arm(interval time.Duration) {
	if r.armed {
		return
	}
	d := interval/2 + rand.N(interval/2+1)
	if r.t == nil {
		r.t = time.NewTimer(d)
	} else {
		r.t.Reset(d)
	}
	r.armed = true
}

// c returns the timer's channel while it is armed, else nil.
func (r *retryTimer) c() <-chan time.Time {
	if !r.armed {
		return nil
	}
	return r.t.C
}

func (r *retryTimer) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}

// try runs the acquire script once and, if it admitted the member, records
// the slot and returns its context and release.
func (l *Limiter) try(ctx context.Context, key, rkey string, limit int) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	member := l.instance + strconv.FormatUint(l.seq.Add(1), 36)
	sent := time.Now()
	n, err := acquireScript.Run(ctx, l.client, []string{rkey}, member, limit, l.leaseMs).Int()
	if err != nil {
		if !neverSent(err) {
			l.freeLater(ctx, key, rkey, member)
		}
		return nil, nil, fmt.Errorf("redisslot: acquire slot of key %q: %w", key, err)
	}
	if n == 0 {
		return nil, nil, ErrFull
	}

	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.freeLater(ctx, key, rkey, member)
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		l.mu.Unlock()
		l.freeLater(ctx, key, rkey, member)
		return nil, nil, err
	}
	sctx, cancel := context.WithCancelCause(ctx)
	s := &slot{
		l:         l,
		key:       key,
		rkey:      rkey,
		member:    member,
		values:    ctx,
		cancel:    cancel,
		confirmed: sent,
	}
	l.hold(s)
	l.mu.Unlock()
	return sctx, release.WrapOnDone(sctx, s.release), nil
}
