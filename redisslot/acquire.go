package redisslot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctxguard/release"
	"github.com/redis/go-redis/v9"
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
func (l *Limiter) TryAcquire(ctx context.Context, key string, limit int) (_ context.Context, _ func(), err error) {
	if ctx == nil {
		panic("redisslot: TryAcquire called with a nil Context")
	}
	defer l.acquireEnded(ctx, key, time.Now(), &err) // hook.go
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
func (l *Limiter) Acquire(ctx context.Context, key string, limit int) (_ context.Context, _ func(), err error) {
	if ctx == nil {
		panic("redisslot: Acquire called with a nil Context")
	}
	defer l.acquireEnded(ctx, key, time.Now(), &err) // hook.go
	if err := checkArgs(key, limit); err != nil {
		return nil, nil, err
	}
	if !l.enter() {
		return nil, nil, ErrClosed
	}
	defer l.wg.Done()

	rkey := l.prefix + key
	channel := wakeChannel(rkey)
	if !l.hasWaiters(channel) {
		sctx, rel, err := l.try(ctx, key, rkey, limit)
		if err != ErrFull {
			return sctx, rel, err
		}
	}
	w, err := l.join(channel, rkey)
	if err != nil {
		return nil, nil, named(err, key)
	}
	l.waiterJoined(key)     // hook.go
	defer l.waiterLeft(key) // hook.go

	var timer *time.Timer
	armed := false
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		l.wmu.Lock()
		tryNow, probe := w.woken, w.probe
		w.woken, w.probe = false, false
		head := w.q.head == w
		l.wmu.Unlock()

		if tryNow {
			sctx, rel, err := l.try(ctx, key, rkey, limit)
			if err != ErrFull {
				l.leave(w, probe && err == nil)
				return sctx, rel, err
			}
			armed = false // lost the race: wait again, in the same place
		}
		if head && !armed {
			d := l.retry/2 + rand.N(l.retry/2+1)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			armed = true
		}
		var tick <-chan time.Time
		if armed {
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			l.leave(w, false)
			return nil, nil, ctx.Err()
		case <-l.closing:
			l.leave(w, false)
			return nil, nil, ErrClosed
		case <-w.notify:
		case <-tick:
			armed = false
			l.wmu.Lock()
			w.woken, w.probe = true, true
			l.wmu.Unlock()
		}
	}
}

// try runs the acquire script once and, if it admitted the member, records
// the slot and returns its context and release. The call carries l's
// pending frees of the key. A member whose call failed after it may have
// reached Redis, or that the caller cannot take any more, goes on the
// pending frees; the caller never waits for that free.
func (l *Limiter) try(ctx context.Context, key, rkey string, limit int) (context.Context, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	member := l.instance + strconv.FormatUint(l.seq.Add(1), 36)
	l.mu.Lock()
	carried := l.carried(rkey)
	l.mu.Unlock()
	args := make([]any, 0, 4+len(carried))
	args = append(args, member, limit, l.leaseMs, wakeChannel(rkey))
	for _, m := range carried {
		args = append(args, m)
	}
	sent := time.Now()
	n, err := acquireScript.Run(ctx, l.client, []string{rkey}, args...).Int()
	if err != nil {
		if !neverSent(err) {
			l.mu.Lock()
			l.addPending(key, rkey, member, sent.Add(l.lease), true)
			l.mu.Unlock()
		}
		return nil, nil, fmt.Errorf("redisslot: acquire slot of key %s: %w", quoteKey(key), err)
	}
	l.confirmCarried(rkey, carried)
	if n == 0 {
		return nil, nil, ErrFull
	}

	l.mu.Lock()
	err = ctx.Err()
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

// wakeChannel names the pub/sub channel on which the frees of the slot set
// at rkey are announced.
func wakeChannel(rkey string) string { return rkey + ":wake" }

// waiting is the Limiter's state for Acquire calls that wait.
type waiting struct {
	wmu        sync.Mutex
	queues     map[string]*queue // by wake-up channel
	sub        *subscriber       // nil until the first wait
	waitClosed bool              // Close has stopped the subscriber

	// dropWake, when set, is asked about each wake-up message; true drops
	// it. For tests of lost wake-ups.
	dropWake atomic.Pointer[func(channel string) bool]
}

// A queue holds the waiters of one key on one Limiter, oldest first.
type queue struct {
	channel    string
	head, tail *waiter
	n          int
	// fresh marks a queue that the subscriber has not yet seen. A wake-up
	// published after its first waiter's failed try, but before the queue
	// existed, found no queue; so once subscribed, the oldest tries.
	fresh bool
}

// A waiter is one waiting Acquire call.
type waiter struct {
	q          *queue
	prev, next *waiter
	woken      bool          // a wake-up is due and not yet tried; under wmu
	probe      bool          // that wake-up guesses at a silent free; under wmu
	notify     chan struct{} // buffered 1: woken, or became the oldest
}

// A subscriber is the Limiter's one pub/sub connection and the goroutine
// that reads it.
type subscriber struct {
	ps     *redis.PubSub
	resync chan struct{} // buffered 1: the set of waited-for keys changed
	// subscribed is the set of channels asked for; only the listening
	// goroutine touches it.
	subscribed map[string]bool
}

func (l *Limiter) hasWaiters(channel string) bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	q := l.queues[channel]
	return q != nil && q.n > 0
}

// join queues a new waiter for a key, subscribing to its channel if it is
// the first. The caller is counted in l.wg.
func (l *Limiter) join(channel, rkey string) (*waiter, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.waitClosed {
		return nil, ErrClosed
	}
	q := l.queues[channel]
	if q != nil && l.maxWaiters > 0 && q.n >= l.maxWaiters {
		return nil, ErrFull
	}
	if q == nil {
		if l.queues == nil {
			l.queues = make(map[string]*queue)
		}
		q = &queue{channel: channel, fresh: true}
		l.queues[channel] = q
		l.startSubscriber()
		poke(l.sub.resync)
	}
	w := &waiter{q: q, prev: q.tail, notify: make(chan struct{}, 1)}
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
	q.n++
	return w, nil
}

// leave takes w out of its queue. A wake-up w did not try passes to the
// next waiter; so does a probe, when w took a slot on a guess (then others
// may have freed silently with it); a new oldest waiter is told, so that it
// starts its retry timer; an empty queue is dropped and its channel
// unsubscribed.
func (l *Limiter) leave(w *waiter, probeNext bool) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	q := w.q
	wasHead := q.head == w
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	q.n--
	if q.n == 0 {
		delete(l.queues, q.channel)
		if l.sub != nil {
			poke(l.sub.resync)
		}
		return
	}
	if w.woken {
		wakeOldest(q, 1, w.probe)
	}
	if probeNext {
		wakeOldest(q, 1, true)
	}
	if wasHead {
		poke(q.head.notify)
	}
}

// wake wakes up to n waiters of channel that have no wake-up due, oldest
// first. A probe is a wake-up sent on a guess that a slot freed.
func (l *Limiter) wake(channel string, n int, probe bool) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if q := l.queues[channel]; q != nil {
		wakeOldest(q, n, probe)
	}
}

func wakeOldest(q *queue, n int, probe bool) {
	for w := q.head; w != nil && n > 0; w = w.next {
		if !w.woken {
			w.woken, w.probe = true, probe
			poke(w.notify)
			n--
		}
	}
}

// poke sends on a channel buffered 1 without blocking.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// startSubscriber opens the pub/sub connection, once. The caller holds wmu
// and is counted in l.wg.
func (l *Limiter) startSubscriber() {
	if l.sub != nil {
		return
	}
	ps := l.client.Subscribe(l.bg) // no channel yet: connects on first use
	l.sub = &subscriber{
		ps:         ps,
		resync:     make(chan struct{}, 1),
		subscribed: make(map[string]bool),
	}
	// go-redis reads the connection on a goroutine of its own, pings it, and
	// reconnects and subscribes again after an error. Its channel drops a
	// message only when the reader stalls for a minute; listen never blocks
	// on anything slow.
	msgs := ps.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	l.wg.Add(1)
	go l.listen(l.sub, msgs)
}

// listen is the subscriber's goroutine: it turns messages into wake-ups and
// keeps the subscriptions equal to the set of waited-for keys. It ends when
// Close closes the connection.
func (l *Limiter) listen(sub *subscriber, msgs <-chan any) {
	defer l.wg.Done()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *redis.Subscription:
				// Now subscribed (again, after a reconnect): a free may
				// have gone unheard, so the oldest waiter tries.
				if m.Kind == "subscribe" {
					l.wake(m.Channel, 1, true)
				}
			case *redis.Message:
				if drop := l.dropWake.Load(); drop != nil && (*drop)(m.Channel) {
					continue
				}
				n, err := strconv.Atoi(m.Payload)
				if err != nil || n < 1 {
					n = 1
				}
				l.wake(m.Channel, n, false)
			}
		case <-sub.resync:
			l.resubscribe(sub)
		}
	}
}

// resubscribe subscribes to the channels of keys that gained waiters and
// unsubscribes from those of keys that lost them. go-redis remembers the
// channels even when the call fails, and subscribes to them again when it
// reconnects. Its calls are bounded by ReleaseTimeout, far below the minute
// for which go-redis holds a message that listen has not yet read.
//
// go-redis's reader retries a broken connection on its own and does not
// report it; waiters then rely on their retry timer, and the failures show
// in OnError through the renewals and frees that fail alongside.
func (l *Limiter) resubscribe(sub *subscriber) {
	var add, remove []string
	l.wmu.Lock()
	for ch, q := range l.queues {
		if !sub.subscribed[ch] {
			// Its confirmation wakes the oldest waiter.
			add = append(add, ch)
			sub.subscribed[ch] = true
		} else if q.fresh {
			// Still subscribed from an earlier queue: no confirmation comes.
			wakeOldest(q, 1, true)
		}
		q.fresh = false
	}
	for ch := range sub.subscribed {
		if l.queues[ch] == nil {
			remove = append(remove, ch)
			delete(sub.subscribed, ch)
		}
	}
	l.wmu.Unlock()

	ctx, cancel := context.WithTimeout(l.bg, l.releaseTimeout)
	defer cancel()
	var errs []error
	if len(add) > 0 {
		if err := sub.ps.Subscribe(ctx, add...); err != nil {
			errs = append(errs, fmt.Errorf("redisslot: subscribe to wake-ups %q: %w", add, err))
		}
	}
	if len(remove) > 0 {
		if err := sub.ps.Unsubscribe(ctx, remove...); err != nil {
			errs = append(errs, fmt.Errorf("redisslot: unsubscribe from wake-ups %q: %w", remove, err))
		}
	}
	if len(errs) > 0 && l.bg.Err() == nil {
		l.report(errors.Join(errs...))
	}
}

// stopWaiting closes the pub/sub connection, which ends the listening
// goroutine. Waiting Acquire calls have been told by l.closing.
func (l *Limiter) stopWaiting() error {
	l.wmu.Lock()
	l.waitClosed = true
	sub := l.sub
	l.wmu.Unlock()
	if sub == nil {
		return nil
	}
	if err := sub.ps.Close(); err != nil {
		return fmt.Errorf("redisslot: close pub/sub connection: %w", err)
	}
	return nil
}
