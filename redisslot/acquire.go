package redisslot

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ctxguard/release"
)

// TryAcquire takes a slot of key if fewer than limit holders hold it across
// all instances and nobody, on any instance, waits for it; it returns
// ErrFull at once otherwise, even when a slot has just been freed for a
// waiter, as golang.org/x/sync/semaphore's TryAcquire does. The check and
// the take are one atomic script in Redis, timed by Redis's clock.
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
//   - release does not wait for Redis: it cancels the slot's context and
//     hands the slot's member to l, which sends the free at once (batched
//     per key, not cancelled by ctx, bounded by ReleaseTimeout) and again
//     with each renewal round until Redis confirms it or the lease has
//     ended. A free that does not get through goes to OnError, at most once
//     per key per round, and the slot frees itself when its lease ends.
//     [Limiter.InUse] and [Limiter.Load] may count the slot until its free
//     arrives.
//   - While the slot is held, l renews its lease in the background.
//
// On an error it returns a nil context and a nil release. The errors are
// ErrFull; ErrClosed once Close has been called; ctx's error when ctx is
// done; an error saying what is wrong with key (empty) or limit (below 1);
// or a Redis error, wrapped so that [errors.Is] works, naming the key. An
// acquire whose outcome is unknown (its reply was lost) leaves no slot
// behind: the member it may have added goes on l's pending frees, sent as a
// release's are.
//
// Each caller is admitted against the limit it passes: callers that pass
// different limits for one key share its holders, and a caller passing 3
// is refused once 3 hold the key even if another, passing 5, would still be
// admitted.
//
// TryAcquire panics if ctx is nil.
func (l *Limiter) TryAcquire(ctx context.Context, key string, limit int) (_ context.Context, _ func(), err error) {
	if ctx == nil {
		panic("redisslot: TryAcquire called with a nil Context")
	}
	defer l.acquireEnded(ctx, key, time.Now(), &err) // hook.go
	if err := l.checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	if !l.enter() {
		return nil, nil, ErrClosed
	}
	defer l.wg.Done()
	r, err := l.try(ctx, key, l.slotKey(key), l.newMember(limit), limit, modeTry)
	if err == nil && r.state == stateFull {
		err = ErrFull
	}
	return l.ended(key, r.ctx, r.rel, err)
}

// Acquire takes a slot of key as TryAcquire does, or else waits in the
// key's one queue, shared by every instance, until a slot is its, ctx is
// done, or l is closed. It returns what TryAcquire returns, except ErrFull;
// when the key already has as many waiters, across all instances, as
// Options.MaxWaitersFor or Options.MaxWaiters allow, it returns ErrQueueFull
// (which also matches ErrFull) at once, wrapped in an error naming the key.
// When ctx is done it returns at once with ctx.Err(); when l is closed,
// ErrClosed.
//
// Waiters are served in the order they joined, whatever their instance:
//
//   - A caller that finds the key full joins the back of its queue in
//     Redis, in the same script that found it full: no extra round trip.
//     A freed slot goes to the oldest waiter; a waiter takes it only when
//     fewer waiters are ahead of it than slots are free, and each of them
//     still finds room under the limit it passed, so no later waiter, on
//     any instance, is admitted before it, whatever limits they pass. A new
//     caller takes a free slot at once only when it would as the last in
//     line.
//   - A release on l wakes l's oldest waiter of the key at once; its try
//     carries the free, so when it is first in line it takes the slot in
//     one round trip.
//   - A release on any instance publishes a wake-up on the key's channel in
//     the same call that frees the slot, naming the waiters that may now
//     take a slot, first in line first. l listens on one pub/sub
//     connection, subscribed to the keys its Acquire calls wait for and no
//     others, and wakes the named waiters that wait on it, and no other.
//   - Because a wake-up can be lost (pub/sub does not queue, and a lease
//     that ends frees a slot silently), the oldest waiter of each key on l
//     also tries again after a random time in the upper half of the retry
//     interval, min(Lease/3, 1s). When such a try takes a slot, more may
//     have freed silently with it, so the next waiter tries at once, and so
//     on while they succeed.
//   - A waiter's entry in the queue ends on its own about a second after
//     its last renewal: l renews the entries of its waiters every 300 ms,
//     in one call per key, while it has waiters. So the waiters of a
//     crashed or stalled instance stop holding up the queue within about
//     a second and a half, whatever the Lease, and the waiters behind them
//     are woken when they are dropped. A live waiter whose entry ended
//     keeps its place if its entry is still there, and otherwise joins
//     again at the back.
//   - A waiter whose ctx ends, or whose Limiter closes, leaves the queue in
//     one round trip, sent in the background; if that fails, its entry ends
//     on its own.
//
// Acquire leaves nothing behind when it returns: no goroutine, and no
// subscription for a key that nobody on l waits for.
//
// Acquire panics if ctx is nil.
func (l *Limiter) Acquire(ctx context.Context, key string, limit int) (_ context.Context, _ func(), err error) {
	if ctx == nil {
		panic("redisslot: Acquire called with a nil Context")
	}
	defer l.acquireEnded(ctx, key, time.Now(), &err) // hook.go
	if err := l.checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	if !l.enter() {
		return nil, nil, ErrClosed
	}
	defer l.wg.Done()
	sctx, rel, err := l.acquire(ctx, key, limit)
	return l.ended(key, sctx, rel, err)
}

// ended is where every TryAcquire and Acquire call that got past its
// argument checks ends, with its outcome: a slot, ErrFull, ErrQueueFull,
// ctx's error, ErrClosed or a Redis error. It names key in ErrFull and
// ErrQueueFull.
func (l *Limiter) ended(key string, sctx context.Context, rel func(), err error) (context.Context, func(), error) {
	return sctx, rel, named(err, key)
}

// acquire takes a slot or joins the queue in one call, and then waits.
func (l *Limiter) acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	rkey := l.slotKey(key)
	member := l.newMember(limit)
	r, err := l.try(ctx, key, rkey, member, limit, modeJoin)
	switch {
	case err != nil:
		return nil, nil, err
	case r.state == stateAdmitted:
		return r.ctx, r.rel, nil
	case r.state == stateQueueFull:
		return nil, nil, ErrQueueFull
	}
	w, err := l.waiting.join(key, rkey, member, r.order, l.startWaiting)
	if err != nil {
		l.unqueue(key, rkey, member)
		return nil, nil, err
	}
	l.waiterJoined(key)     // hook.go
	defer l.waiterLeft(key) // hook.go
	return l.await(ctx, w, limit)
}

// await waits in w's place until w takes a slot, ctx is done, or l is
// closed, and then leaves the queue. A due wake-up makes w try; the oldest
// local waiter also tries on its retry timer.
func (l *Limiter) await(ctx context.Context, w *waiter, limit int) (context.Context, func(), error) {
	var retry retryTimer
	defer retry.stop()
	for {
		tryNow, probe, head := l.waiting.next(w)
		if tryNow && ctx.Err() != nil {
			l.waiting.unuse(w, probe) // it goes to the next waiter
			tryNow = false
		}
		if tryNow {
			r, err := l.try(ctx, w.key, w.rkey, w.member, limit, modeWait)
			if err != nil || r.state == stateAdmitted {
				l.leave(w, probe && err == nil)
				return r.ctx, r.rel, err
			}
			l.waiting.reorder(w, r.order) // it joined again if its entry had gone
			retry.armed = false           // not yet its turn: wait again
		}
		if head {
			if d := retry.arm(l.retry); d > 0 {
				if hear := l.waiting.onArm.Load(); hear != nil {
					(*hear)(d)
				}
			}
		}
		select {
		case <-ctx.Done():
			l.leave(w, false)
			l.unqueue(w.key, w.rkey, w.member)
			return nil, nil, ctx.Err()
		case <-l.closing:
			l.leave(w, false)
			l.unqueue(w.key, w.rkey, w.member)
			return nil, nil, ErrClosed
		case <-w.notify:
		case <-retry.c():
			retry.armed = false
			l.waiting.probe(w)
		}
	}
}

// leave takes w out of its local queue, and tells the subscriber when that
// left the key with no local waiter.
func (l *Limiter) leave(w *waiter, probeNext bool) {
	if l.waiting.leave(w, probeNext) {
		l.resync()
	}
}

// The modes of the acquire script: see acquireScript.
const (
	modeTry  = "try"
	modeJoin = "join"
	modeWait = "wait"
)

// The states the acquire script answers with.
const (
	stateFull      = 0 // TryAcquire: no slot for this caller
	stateAdmitted  = 1 // the member holds a slot
	stateQueued    = 2 // the member waits in line
	stateQueueFull = 3 // the queue is at its cap
)

// A tryResult is what one run of the acquire script gave: a held slot, or
// a state and, when queued, the member's order in line.
type tryResult struct {
	ctx   context.Context
	rel   func()
	state int64
	order int64
}

// newMember returns a member id unique to this Limiter and call, which
// ends in "/" and the caller's limit: the acquire script reads a waiter's
// limit there, so that a later waiter passing a higher limit does not take
// the slot the waiter needs.
func (l *Limiter) newMember(limit int) string {
	return l.instance + strconv.FormatUint(l.seq.Add(1), 36) + "/" + strconv.Itoa(limit)
}

// unqueue puts a waiter's entry, which holds no slot, on the pending frees:
// the renewer sends its removal at once, without the caller waiting. If
// that fails, the entry ends on its own within entryTTL of its last
// renewal.
func (l *Limiter) unqueue(key, rkey, member string) {
	l.mu.Lock()
	l.addPending(key, rkey, member, time.Now().Add(entryTTL+entryRenewEvery), false)
	l.mu.Unlock()
}

// try runs the acquire script once for member and, if it admitted the
// member, records the slot and returns its context and release. The call
// carries l's pending frees of the key. A member whose call failed after it
// may have reached Redis, or that the caller cannot take any more, goes on
// the pending frees, and so does a waiter's place in line (mode "wait");
// the caller never waits for that free.
func (l *Limiter) try(ctx context.Context, key, rkey, member string, limit int, mode string) (tryResult, error) {
	if err := ctx.Err(); err != nil {
		if mode == modeWait {
			l.unqueue(key, rkey, member)
		}
		return tryResult{}, err
	}
	l.mu.Lock()
	carried := l.carried(rkey)
	l.mu.Unlock()
	args := make([]any, 0, 7+len(carried))
	args = append(args, member, limit, l.leaseArg, wakeChannel(rkey), mode, l.capFor(key, limit), entryTTLArg)
	for _, m := range carried {
		args = append(args, m)
	}
	sent := time.Now()
	res, err := acquireScript.Run(ctx, l.client, keysOf(rkey), args...).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	if err != nil {
		if mode == modeWait || !neverSent(err) {
			l.mu.Lock()
			l.addPending(key, rkey, member, sent.Add(l.lease), !neverSent(err))
			l.mu.Unlock()
		}
		return tryResult{}, fmt.Errorf("redisslot: acquire slot of key %s: %w", quoteKey(key), err)
	}
	l.confirmCarried(rkey, carried)
	if res[0] != stateAdmitted {
		return tryResult{state: res[0], order: res[1]}, nil
	}
	sctx, rel, err := l.keep(ctx, key, rkey, member, sent)
	return tryResult{ctx: sctx, rel: rel, state: stateAdmitted}, err
}

// keep records a slot the acquire script admitted, and returns its context
// and release; or, when l is closed or ctx done by now, puts it on the
// pending frees.
func (l *Limiter) keep(ctx context.Context, key, rkey, member string, sent time.Time) (context.Context, func(), error) {
	l.mu.Lock()
	err := ctx.Err()
	if l.closed {
		err = ErrClosed
	}
	if err != nil {
		l.addPending(key, rkey, member, sent.Add(l.lease), false)
		l.mu.Unlock()
		return nil, nil, err
	}
	sctx, cancel := context.WithCancelCause(ctx)
	s := &slot{
		l:         l,
		key:       key,
		rkey:      rkey,
		member:    member,
		cancel:    cancel,
		confirmed: sent,
		renewSent: sent,
		obs:       slotObs{sctx, ctx, sent}, // hook.go
	}
	l.hold(s)
	l.mu.Unlock()
	return sctx, release.WrapOnDone(sctx, s.release), nil
}
