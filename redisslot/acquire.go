package redisslot

import (
	"context"
	"fmt"
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
//     per key, not cancelled by ctx, bounded by ReleaseTimeout), or has
//     the next acquire of the key here carry it, and sends it again with
//     each renewal round until Redis confirms it. A free that does not get through goes to OnError, at most once
//     per key per round, and is sent again until Redis confirms it; if it
//     never does, the slot frees itself when its lease ends.
//     [Limiter.InUse] and [Limiter.Load] may count the slot until its free
//     arrives.
//   - While the slot is held, l renews its lease in the background.
//
// On an error it returns a nil context and a nil release. The errors are
// ErrFull; ErrClosed once Close has been called; ctx's error when ctx is
// done; an error saying what is wrong with key (empty) or limit (below 1);
// or a Redis error, wrapped so that [errors.Is] works, naming the key. An
// acquire whose outcome is unknown (its reply was lost) leaves no slot
// behind, however late Redis runs it: the member it may have added goes on
// l's pending frees, sent as a release's are, and its free leaves a
// tombstone in Redis that refuses the acquire if it runs after the free.
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
	var a *attempt
	defer func(start time.Time) { l.emit.acquireEnded(ctx, key, start, err, a.fromShare()) }(time.Now())
	a, err = l.begin(ctx, key, limit)
	if err != nil {
		return nil, nil, err
	}
	defer l.calls.Done()
	for {
		if l.fb.degraded() {
			sctx, rel, err := a.share(false)
			if rel != nil || err != errBackToRedis {
				return sctx, rel, err
			}
		}
		sctx, rel, _, err := a.try(modeTry, 0)
		if err != nil && a.toShare(err) {
			continue
		}
		if rel != nil || err != nil {
			return sctx, rel, err
		}
		return nil, nil, fullFor(key)
	}
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
//   - A release on l of a key whose oldest waiter on l is known to be
//     first in line wakes that waiter at once: its try carries the free
//     and takes the slot, in one round trip. Otherwise the free is sent at
//     once, and wakes whoever's turn it is, on any instance.
//   - A release on any instance publishes a wake-up on the key's channel in
//     the same call that frees the slot, naming the waiters that may now
//     take a slot, first in line first: only those try. l listens on one pub/sub
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
	var a *attempt
	defer func(start time.Time) { l.emit.acquireEnded(ctx, key, start, err, a.fromShare()) }(time.Now())
	a, err = l.begin(ctx, key, limit)
	if err != nil {
		return nil, nil, err
	}
	defer l.calls.Done()
	for {
		if l.fb.degraded() {
			sctx, rel, err := a.share(true)
			if rel != nil || err != errBackToRedis {
				return sctx, rel, err
			}
		}
		sctx, rel, err := a.viaRedis()
		if rel != nil || err != errToShare {
			return sctx, rel, err
		}
	}
}

// viaRedis takes a slot or joins the key's queue in Redis, and waits there.
// It returns errToShare when Redis cannot be reached and the fallback state
// is on: the caller is then served from the share.
func (a *attempt) viaRedis() (context.Context, func(), error) {
	sctx, rel, r, err := a.join()
	if err != nil && a.toShare(err) {
		return nil, nil, errToShare
	}
	if rel != nil || err != nil {
		return sctx, rel, err
	}
	if r.state == stateQueueFull {
		return nil, nil, queueFullFor(a.ref.key)
	}
	return a.wait(r.order, r.rank)
}

// begin checks the arguments of an acquiring call and counts it in flight:
// it returns the call's attempt, or what is wrong: with key, then with
// limit, or that l is closed. The caller calls l.calls.Done when it ends.
func (l *Limiter) begin(ctx context.Context, key string, limit int) (*attempt, error) {
	if err := l.set.names.check(key); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("redisslot: limit %d for key %s is less than 1", limit, quoteKey(key))
	}
	if !l.enter() {
		return nil, ErrClosed
	}
	return &attempt{l: l, ctx: ctx, ref: l.set.names.ref(key), member: l.members.next(limit), limit: limit}, nil
}

// An attempt is one TryAcquire or Acquire call past its checks: a key, a
// member id for it, and the caller's ctx and limit.
type attempt struct {
	l      *Limiter
	ctx    context.Context
	ref    *keyRef
	member string
	limit  int
	shared bool // the slot came from the fallback share
}

// A tryResult is what one run of the acquire script said: its state and,
// when queued, the member's order and rank in line.
type tryResult struct {
	state       int64
	order, rank int64
}

// join takes a slot or joins the queue, in one call. When MaxWaitersFor is
// set, the first call only learns whether the caller would join, and a
// second, with the key's cap, joins: MaxWaitersFor is asked only then.
func (a *attempt) join() (context.Context, func(), tryResult, error) {
	set := &a.l.set
	if set.maxWaitersFor == nil {
		return a.try(modeJoin, set.maxWaiters)
	}
	sctx, rel, r, err := a.try(modeProbe, 0)
	if rel != nil || err != nil || r.state != stateWouldJoin {
		return sctx, rel, r, err
	}
	return a.try(modeJoin, set.capFor(a.ref.key, a.limit))
}

// try runs the acquire script once and, if it admitted the member, keeps
// the slot. The call carries the pending frees of the key, and removes
// those on their way in other calls too, so that a release followed at
// once by an acquire of its key here is not refused for want of its own
// free. A member whose
// call failed after it may have reached Redis goes on the pending frees,
// unsure, and so does a waiter's place in line (mode "wait"); the caller
// never waits for that free.
func (a *attempt) try(mode string, capacity int) (context.Context, func(), tryResult, error) {
	l := a.l
	if err := a.ctx.Err(); err != nil {
		if mode == modeWait {
			l.frees.add(a.ref, a.member, freeEntry, false)
		}
		return nil, nil, tryResult{}, err
	}
	carried, onTheWay := l.frees.carry(a.ref.rkey())
	args := make([]any, 0, 7+len(carried)+len(onTheWay))
	args = append(args, a.member, a.limit, l.set.leaseArg, mode, capacity, entryTTLArg, len(carried))
	for _, m := range carried {
		args = append(args, m)
	}
	for _, m := range onTheWay {
		args = append(args, m)
	}
	sent := time.Now()
	res, err := acquireScript.Run(a.ctx, l.client, a.ref.keys(), args...).Int64Slice()
	if err == nil && (len(res) != 3 || res[0] == stateGone) {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	l.frees.carried(a.ref.rkey(), carried, err == nil)
	if err != nil {
		return nil, nil, tryResult{}, a.failed(mode, err, len(carried) > 0)
	}
	l.health.note(nil)
	if res[0] != stateAdmitted {
		return nil, nil, tryResult{state: res[0], order: res[1], rank: res[2]}, nil
	}
	sctx, rel, err := a.keep(sent)
	return sctx, rel, tryResult{state: stateAdmitted}, err
}

// failed handles a failed run of the acquire script in mode, which carried
// frees if carried, and returns the caller's error.
func (a *attempt) failed(mode string, err error, carried bool) error {
	l := a.l
	if a.ctx.Err() == nil {
		l.health.note(err)
	}
	switch {
	case !neverSent(err):
		l.frees.add(a.ref, a.member, freeUnsure, false)
	case mode == modeWait:
		l.frees.add(a.ref, a.member, freeEntry, false)
	case carried:
		l.renewer.kick() // the frees it carried wait again: send them
	}
	return fmt.Errorf("redisslot: acquire slot of key %s: %w", quoteKey(a.ref.key), err)
}

// keep records a slot the acquire script admitted in a call sent at sent,
// and returns its context and release; or, when ctx is done or l closed by
// now, puts it on the pending frees.
func (a *attempt) keep(sent time.Time) (context.Context, func(), error) {
	l := a.l
	if err := a.ctx.Err(); err != nil {
		l.frees.add(a.ref, a.member, freeSlot, false)
		return nil, nil, err
	}
	sctx, cancel := context.WithCancelCause(a.ctx)
	s := &holding{ref: a.ref, member: a.member, cancel: cancel, end: l.released, set: sent, obs: slotObs{sctx, a.ctx, sent}}
	if !l.clock.hold(s) {
		cancel(ErrClosed)
		l.frees.add(a.ref, a.member, freeSlot, false)
		return nil, nil, ErrClosed
	}
	l.renewer.wake()
	return sctx, release.WrapOnDone(sctx, s.release), nil
}

// wait joins the member's local queue, at order with rank waiters ahead of
// it in Redis, and waits there.
func (a *attempt) wait(order, rank int64) (context.Context, func(), error) {
	l := a.l
	w, fresh, err := l.waiting.join(a.ref, a.member, order, rank)
	if err != nil {
		l.frees.add(a.ref, a.member, freeEntry, false)
		return nil, nil, err
	}
	if fresh {
		l.sub.sync()
	}
	l.entries.wake()
	l.emit.waiterJoined(a.ref.key)
	defer l.emit.waiterLeft(a.ref.key)
	return a.await(w)
}

// await waits in w's place until w takes a slot, ctx is done, or l is
// closed, and then leaves the queue. A due wake-up makes w try; the oldest
// local waiter also tries on its retry timer.
func (a *attempt) await(w *waiter) (context.Context, func(), error) {
	l := a.l
	var retry retryTimer
	defer retry.stop()
	for {
		tryNow, probe, oldest := l.waiting.next(w)
		if tryNow && a.ctx.Err() != nil {
			l.waiting.give(w, probe) // it goes to the next waiter
			tryNow = false
		}
		if tryNow && l.fb.degraded() {
			return a.giveUp(w, errToShare) // Redis cannot be reached: wait for the share
		}
		if tryNow {
			sctx, rel, r, err := a.try(modeWait, 0)
			if err != nil && a.toShare(err) {
				a.leave(w, false)
				return nil, nil, errToShare
			}
			if rel != nil || err != nil {
				a.leave(w, probe && err == nil)
				return sctx, rel, err
			}
			l.waiting.tried(w, r.order, r.rank) // it joined again if its entry had gone
			retry.disarm()                      // not yet its turn: wait again
		}
		if oldest {
			if d := retry.arm(l.set.retry); d > 0 {
				if hear := l.waiting.onArm.Load(); hear != nil {
					(*hear)(d)
				}
			}
		}
		select {
		case <-a.ctx.Done():
			return a.giveUp(w, a.ctx.Err())
		case <-l.closing:
			return a.giveUp(w, ErrClosed)
		case <-w.notify:
		case <-retry.c():
			retry.disarm()
			l.waiting.give(w, true)
		}
	}
}

// leave takes w out of its local queue, and tells the subscriber when that
// left the key with no local waiter.
func (a *attempt) leave(w *waiter, probeNext bool) {
	if a.l.waiting.leave(w, probeNext) {
		a.l.sub.sync()
	}
}

// giveUp leaves the queue without a slot, and returns err: the waiter's
// place in Redis goes on the pending frees.
func (a *attempt) giveUp(w *waiter, err error) (context.Context, func(), error) {
	a.leave(w, false)
	a.l.frees.add(a.ref, a.member, freeEntry, false)
	return nil, nil, err
}
