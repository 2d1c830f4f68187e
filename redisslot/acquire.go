package redisslot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ctxguard/release"
)

// TryAcquire takes a slot of key if fewer than limit holders hold it across
// all instances and nobody, on any instance, waits for it; otherwise it
// returns ErrFull at once, even when a slot was just freed for a waiter, as
// golang.org/x/sync/semaphore's TryAcquire does. The check and the take are
// one atomic script in Redis, timed by Redis's clock. Each caller is
// admitted against the limit it passes: callers passing different limits
// for one key share its holders, and one passing 3 is refused once 3 hold
// the key even if another, passing 5, would still be admitted.
//
// On success it returns the slot's context and its release:
//
//   - The slot's context carries ctx's values. It is done, before the call
//     that frees the slot is sent, when ctx is done, when release is called
//     (cause [context.Canceled]), when the slot's lease is lost (cause
//     ErrLeaseLost), or when l is closed (cause ErrClosed); read the cause
//     with [context.Cause].
//   - release is a guard made by [release.WrapOnDone] on the slot's context:
//     it frees the slot exactly once, on its first call or as soon as that
//     context is done, whichever comes first; later calls do nothing. It is
//     safe for concurrent use, and does not wait for Redis: l sends the free
//     at once (batched per key, not cancelled by ctx, bounded by
//     ReleaseTimeout) or has the key's next acquire here carry it, and again
//     each renewal round until Redis confirms it (failures go to OnError);
//     if Redis never does, the slot frees itself when its lease ends.
//     [Limiter.InUse] and [Limiter.Load] may count it until its free arrives.
//   - While the slot is held, l renews its lease in the background.
//
// On an error it returns a nil context and a nil release. The errors are
// ErrFull; ErrClosed once Close has been called; ctx's error when ctx is
// done; an error saying what is wrong with key (empty) or limit (below 1);
// a Redis error, wrapped so that [errors.Is] works, naming the key; or an
// error naming the key and wrapping ErrLeaseLost when Redis's reply
// admitting the caller came Lease minus the margin (see Options.Lease) or
// more after the call was sent, as Redis may have ended that lease already.
// The acquire is sent once, whatever the client's MaxRetries. One whose
// reply was lost (its outcome unknown) or came that late leaves no slot
// behind, however late Redis runs it: its member is freed as a release's
// is, with a tombstone in Redis that refuses the acquire if it runs later;
// an acquire of its key on l removes it first (up to 32 such members), as
// it does l's frees on their way, so is not refused for it. TryAcquire
// panics if ctx is nil.
func (l *Limiter) TryAcquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	if ctx == nil {
		panic("redisslot: TryAcquire called with a nil Context")
	}
	return l.acquire(ctx, key, limit, false)
}

// Acquire takes a slot of key as TryAcquire does, or else waits in the key's
// one queue, shared by every instance, until a slot is its, ctx is done (it
// then returns ctx.Err() at once), or l is closed (ErrClosed). It returns
// what TryAcquire returns, except ErrFull; when the key already has as many
// waiters, across all instances, as Options.MaxWaitersFor or
// Options.MaxWaiters allow, it returns ErrQueueFull (which also matches
// ErrFull) at once, wrapped in an error naming the key.
//
// Waiters are served in the order they joined, whatever their instance:
//
//   - A caller that finds the key full joins the back of its queue in the
//     same script, with no extra round trip. A waiter takes a slot only when
//     fewer waiters are ahead of it than slots are free and each of them
//     still finds room under the limit it passed, so no later caller, on any
//     instance, is admitted before it, whatever limits they pass.
//   - A free, on any instance, publishes on the key's channel the waiters
//     that may now take a slot, first in line first, and only those try. l
//     holds one pub/sub connection, subscribed to the keys its Acquire calls
//     wait for. A release on l whose key's oldest waiter on l is first in
//     line wakes that waiter at once: its try carries the free and takes the
//     slot, in one round trip.
//   - As a wake-up can be lost (pub/sub does not queue, and a lease that
//     ends frees a slot silently), the oldest waiter of each key on l also
//     tries after a random time in the upper half of min(Lease/3, 1s); when
//     such a try takes a slot, the next waiter tries at once, and so on.
//   - A waiter's entry in the queue ends about a second after its last
//     renewal (l renews its waiters' entries every 300ms, one call per key),
//     so the waiters of a crashed or stalled instance stop holding up the
//     queue within about a second and a half, whatever the Lease. A live
//     waiter whose entry ended keeps its place if it is still there, and
//     otherwise joins again at the back.
//   - A waiter whose ctx ends, or whose Limiter closes, leaves the queue in
//     one round trip, sent in the background; if that fails, its entry ends
//     on its own.
//
// Acquire leaves nothing behind when it returns: no goroutine, and no
// subscription for a key that nobody on l waits for. It panics if ctx is
// nil.
func (l *Limiter) Acquire(ctx context.Context, key string, limit int) (context.Context, func(), error) {
	if ctx == nil {
		panic("redisslot: Acquire called with a nil Context")
	}
	return l.acquire(ctx, key, limit, true)
}

// acquire is TryAcquire, or Acquire if wait is set, past the check of ctx.
// A call that panics (an Options callback did) is heard as an error.
func (l *Limiter) acquire(ctx context.Context, key string, limit int, wait bool) (_ context.Context, _ func(), err error) {
	var a *attempt
	returned := false
	defer func(start time.Time) { l.emit.acquireEnded(ctx, key, start, err, a != nil && a.shared, !returned) }(time.Now())
	sctx, rel, err := l.acquireCall(ctx, key, limit, wait, &a)
	returned = true
	return sctx, rel, err
}

// acquireCall is acquire past its report, which reads the attempt at *ap.
func (l *Limiter) acquireCall(ctx context.Context, key string, limit int, wait bool, ap **attempt) (context.Context, func(), error) {
	if err := l.set.names.check(key); err != nil {
		return nil, nil, err
	}
	if limit < 1 {
		return nil, nil, fmt.Errorf("redisslot: limit %d for key %s is less than 1", limit, quoteKey(key))
	}
	if !l.enter() {
		return nil, nil, ErrClosed
	}
	defer l.calls.Done()
	a := &attempt{l: l, ctx: ctx, ref: l.set.names.ref(key), member: l.members.next(limit), limit: limit}
	*ap = a
	defer a.turn.end()
	for {
		if a.serves() {
			sctx, rel, err := a.share(wait)
			if rel != nil || err != errBackToRedis {
				return sctx, rel, err
			}
		}
		sctx, rel, err := a.viaRedis(wait)
		if rel != nil || err != errToShare {
			return sctx, rel, err
		}
		// The member's place or unsure try is being freed: a try under it
		// again would be refused by its tombstone or undone by its free.
		a.member = l.members.next(a.limit)
	}
}

// An attempt is one TryAcquire or Acquire call past its checks.
type attempt struct {
	l      *Limiter
	ctx    context.Context
	ref    *keyRef
	member string
	limit  int
	shared bool   // the slot came from the fallback share
	asked  uint64 // the looks for lost slots before its last call was sent (see roundAsks)

	fbShare int  // the key's fallback share as last asked, once fbAsked
	fbAsked bool // Options.Fallback was called

	waitCap  int  // the cap on the key's waiters, once capAsked
	capAsked bool // Options.MaxWaitersFor was called (see capacity)

	turn   lineTurn // its turn in its key's line moving between Redis and the share
	inLine *waiter  // its place in Redis's line while it waits there
}

// capacity returns the cap on the waiters of the call's key, asking
// Options.MaxWaitersFor at most once a call, whether the call joins a line
// in Redis, in the fallback share, or both in turn.
func (a *attempt) capacity() int {
	if !a.capAsked {
		a.waitCap, a.capAsked = a.l.set.capFor(a.ref.key, a.limit), true
	}
	return a.waitCap
}

// serves reports whether the fallback state is on and the call's share of
// its key, as last asked of Options.Fallback (asked only if never yet), is
// above 0. Only a turn through the share asks again: a share that changes
// between looks cannot send the call back and forth between Redis and the
// share.
func (a *attempt) serves() bool {
	if !a.l.fb.degraded() || !a.l.reach.outOfReach(a.ctx, a.ref.rkey()) && !a.l.fb.pending(a.ref.key) {
		return false
	}
	if !a.fbAsked {
		a.fbShare, a.fbAsked = a.l.fb.share(a.ref.key, a.limit), true
	}
	return a.fbShare > 0
}

// A tryResult is the acquire script's state, and a queued member's place.
type tryResult struct {
	state, order, rank int64
}

// errToShare ends a try through Redis that cannot be reached: go to the share.
var errToShare = errors.New("redisslot: Redis cannot be reached: serve from the share")

// viaRedis takes a slot, or with wait, joins the key's queue and waits.
func (a *attempt) viaRedis(wait bool) (context.Context, func(), error) {
	mode, capacity := modeJoin, a.l.set.MaxWaiters
	switch {
	case !wait:
		mode, capacity = modeTry, 0
	case a.capAsked: // back from the fallback share's line
		capacity = a.waitCap
	case a.l.set.MaxWaitersFor != nil:
		mode, capacity = modeProbe, 0 // learn first whether it would join: only then ask for the cap
	}
	if err := a.behindLine(wait); err != nil {
		return nil, nil, err
	}
	if a.turn.held() {
		a.turn.wait(a.ctx, a.l.closing)
		if a.serves() { // the state is on again: back to the share's line, in turn
			return nil, nil, errToShare
		}
	}
	sctx, rel, r, err := a.try(mode, capacity)
	if mode == modeProbe && rel == nil && err == nil && r.state == stateWouldJoin {
		sctx, rel, r, err = a.try(modeJoin, a.capacity())
	}
	if err != nil && a.toShare(err) {
		return nil, nil, errToShare // it keeps its turn, for the share's line
	}
	a.turn.end() // joined Redis's line, or left: the next in the line goes
	switch {
	case rel != nil || err != nil:
		return sctx, rel, err
	case !wait:
		return nil, nil, fullFor(a.ref.key)
	case r.state == stateQueueFull:
		return nil, nil, queueFullFor(a.ref.key)
	}
	return a.wait(r.order, r.rank)
}

// try runs the acquire script once, carrying the key's pending frees, and
// keeps the slot if it admitted the member. A member whose call may have
// reached Redis goes on the pending frees, unsure (in mode "wait", its place).
func (a *attempt) try(mode string, capacity int) (context.Context, func(), tryResult, error) {
	l := a.l
	if err := a.ctx.Err(); err != nil {
		if mode == modeWait {
			l.frees.add(a.ref, a.member, freeEntry, false)
		}
		return nil, nil, tryResult{}, err
	}
	c := l.frees.carry(a.ref.rkey())
	settled := false
	defer func() { // the call panicked on its way: the frees it carried wait again
		if !settled {
			l.frees.carried(a.ref.rkey(), c.own, false, true)
			l.renewer.kick()
		}
	}()
	args := make([]any, 0, 8+len(c.own)+len(c.onTheWay))
	args = c.args(append(args, a.member, a.limit, l.set.leaseArg, mode, capacity, entryTTLArg))
	sent := time.Now()
	a.asked = l.asks.count()
	res, err := runOnce(a.ctx, l.client, acquireScript, acquireSrc, a.ref.keys(), args, l.renewer.emptied).Int64Slice()
	if err == nil && (len(res) != 3 || res[0] == stateGone) {
		err = fmt.Errorf("unexpected reply %v", res)
	}
	l.frees.carried(a.ref.rkey(), c.own, err == nil, err != nil && (neverSent(err) || ctxEnded(a.ctx)))
	settled = true
	if err != nil {
		return nil, nil, tryResult{}, a.failed(mode, err, len(c.own) > 0, sent)
	}
	l.health.note(nil, sent)
	l.reach.note(a.ctx, a.ref.rkey(), nil, sent)
	if l.health.acquired() {
		l.renewer.roundNow() // after a READONLY: a failover may have lost slots
	}
	if res[0] != stateAdmitted {
		return nil, nil, tryResult{state: res[0], order: res[1], rank: res[2]}, nil
	}
	sctx, rel, err := a.keep(sent, false)
	return sctx, rel, tryResult{state: stateAdmitted}, err
}

// failed notes a failed run of the acquire script, sent at sent, and
// returns its error.
func (a *attempt) failed(mode string, err error, carried bool, sent time.Time) error {
	l := a.l
	if !ctxEnded(a.ctx) {
		l.health.note(err, sent)
		l.reach.note(a.ctx, a.ref.rkey(), err, sent).wait(a.ctx) // before it serves the share, or not
	}
	switch {
	case !neverSent(err):
		l.frees.addUnsureAcquire(a.ref, a.member)
	case mode == modeWait:
		l.frees.add(a.ref, a.member, freeEntry, false)
	case carried:
		l.renewer.kick() // the frees it carried wait again: send them
	}
	if ctxEnded(a.ctx) {
		err = ctxErr(a.ctx) // not the network timeout that cut the call short
	}
	return fmt.Errorf("redisslot: acquire slot of key %s: %w", quoteKey(a.ref.key), err)
}

// keep records a slot admitted by Redis in a call sent at sent or, if shared,
// taken from the fallback share under a new member id (the attempt's may be
// on its way to Redis); or, when ctx is done or l closed, gives it back. A
// slot whose admission came after its life, as its lease may have ended in
// Redis, it frees as an unsure member and returns as lost.
func (a *attempt) keep(sent time.Time, shared bool) (context.Context, func(), error) {
	l := a.l
	giveBack := func() {
		if shared {
			l.fb.put(a.ref.key)
		} else {
			l.frees.add(a.ref, a.member, freeSlot, false)
		}
	}
	if err := a.ctx.Err(); err != nil {
		giveBack()
		return nil, nil, err
	}
	if took := time.Since(sent); !shared && took >= l.set.life {
		l.frees.addUnsureAcquire(a.ref, a.member)
		return nil, nil, fmt.Errorf("redisslot: acquire slot of key %s: admitted %v after the call was sent, past the slot's life %v: %w",
			quoteKey(a.ref.key), took.Round(time.Millisecond), l.set.life, ErrLeaseLost)
	}
	sctx, cancel := context.WithCancelCause(a.ctx)
	s := &holding{ref: a.ref, member: a.member, cancel: cancel, end: l.released, set: sent, fallback: shared, shared: shared, obs: slotObs{sctx, a.ctx, sent}}
	if shared {
		s.member = l.members.next(a.limit)
	}
	if !l.clock.hold(s) {
		cancel(ErrClosed)
		giveBack()
		return nil, nil, ErrClosed
	}
	a.shared = shared
	if shared {
		l.fb.served.Add(1)
	}
	l.renewer.wake()
	if !shared && l.asks.count() != a.asked {
		l.renewer.lookNow() // a look while the call was on its way may have missed the slot
	}
	l.sub.watch() // from the first slot on, a restart is heard of (after the asks: its rounds see this slot)
	return sctx, release.WrapOnDone(sctx, s.release), nil
}

// wait joins the local queue at the member's place in Redis, and waits.
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
// closed. A due wake-up makes w try; the oldest also tries on its timer.
func (a *attempt) await(w *waiter) (context.Context, func(), error) {
	l := a.l
	var retry retryTimer
	defer retry.stop()
	a.inLine = w
	defer a.leaveOnPanic()
	for {
		tryNow, probe, oldest := l.waiting.next(w)
		if tryNow && a.ctx.Err() != nil {
			l.waiting.give(w, probe) // it goes to the next waiter
			tryNow = false
		}
		if tryNow && a.serves() {
			return a.giveUp(w, errToShare) // Redis cannot be reached: wait for the share
		}
		if tryNow {
			sctx, rel, r, err := a.try(modeWait, 0)
			if err != nil && a.toShare(err) {
				err = errToShare // sctx and rel are nil
			}
			if rel != nil || err != nil {
				a.leave(w, rel != nil, probe && err == nil)
				return sctx, rel, err
			}
			// It joined again if its entry had gone. Unless the state is on
			// for it (it goes to the share's line, in turn), it stays in
			// Redis's line and ends its turn to the share's.
			turn := l.waiting.tried(w, r.order, r.rank, a.serves())
			turn.end()
			retry.disarm() // not yet its turn: wait again
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

// leave takes w out of its local queue, telling the subscriber if it emptied.
func (a *attempt) leave(w *waiter, took, probeNext bool) {
	a.inLine = nil
	emptied, turn := a.l.waiting.leave(w, took, probeNext)
	if turn.held() { // the state began: its turn to go to the share's line
		a.turn.end()
		a.turn = turn
	}
	if emptied {
		a.l.sub.sync()
	}
}

// leaveOnPanic, deferred by await, takes the waiter out of its line if
// await did not return (every return leaves the line): a callback
// (Options.Fallback, say) panicked, or ended the goroutine (runtime.Goexit),
// while it waited. Neither its place nor its turn is kept; the panic goes on.
func (a *attempt) leaveOnPanic() {
	if a.inLine != nil {
		a.giveUp(a.inLine, nil)
	}
}

// giveUp leaves the queue without a slot, freeing the waiter's place.
func (a *attempt) giveUp(w *waiter, err error) (context.Context, func(), error) {
	a.leave(w, false, false)
	a.l.frees.add(a.ref, a.member, freeEntry, false)
	return nil, nil, err
}

// behindLine gives the call, if it holds no turn, one at the end of its
// key's line if that line is moving between Redis and the share: those in
// it are ahead. TryAcquire is refused instead.
func (a *attempt) behindLine(wait bool) error {
	if a.turn.held() {
		return nil
	}
	turn, moving := a.l.lines.behind(a.ref.key)
	switch {
	case !moving:
	case !wait:
		turn.end()
		return fullFor(a.ref.key)
	default:
		a.turn = turn
	}
	return nil
}

// toShare reports whether err, met by a caller still waiting, sends it to
// the fallback share: Redis cannot be reached, and the share serves the key.
func (a *attempt) toShare(err error) bool {
	return a.l.fb.enabled() && !ctxEnded(a.ctx) && unreachable(err) && a.serves()
}

// ctxEnded reports whether ctx is done or its deadline has passed: a call
// that go-redis timed out at ctx's deadline may return before ctx's timer
// marks ctx done, and its error then tells nothing of Redis.
func ctxEnded(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// ctxErr returns the error of ctx, ended (see ctxEnded). A call cut short at
// ctx's deadline fails with a network timeout a moment before ctx's own
// timer ends ctx: it waits for that.
func ctxErr(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// share takes a slot from the key's fallback share, at once or, with wait,
// after waiting in its local line. When the state has ended it returns
// errBackToRedis, with a new member id for the attempt.
func (a *attempt) share(wait bool) (context.Context, func(), error) {
	l := a.l
	a.fbShare, a.fbAsked = l.fb.share(a.ref.key, a.limit), true
	if err := a.behindLine(wait); err != nil {
		return nil, nil, err
	}
	a.turn.wait(a.ctx, l.closing) // those ahead in its key's moving line go first
	master := l.reach.masterOf(a.ctx, a.ref.rkey())
	taken, on := l.fb.takeShare(a.ref.key, master, a.fbShare)
	switch {
	case taken:
		return a.keep(time.Now(), true)
	case !on:
		a.member = l.members.next(a.limit)
		return nil, nil, errBackToRedis
	case !wait:
		return nil, nil, fullFor(a.ref.key)
	}
	capacity := a.capacity() // before it counts as waiting: MaxWaitersFor may panic
	l.emit.waiterJoined(a.ref.key)
	turn, err := l.fb.waitShare(a.ctx, a.ref.key, master, a.fbShare, capacity, l.closing, &a.turn)
	if turn.held() || err != errBackToRedis { // else the state ended before it was in line: it keeps its turn, if any
		a.turn.end()
		a.turn = turn
	}
	l.emit.waiterLeft(a.ref.key)
	switch err {
	case nil:
		return a.keep(time.Now(), true)
	case ErrQueueFull:
		return nil, nil, queueFullFor(a.ref.key)
	case errBackToRedis:
		a.member = l.members.next(a.limit)
	}
	return nil, nil, err
}
