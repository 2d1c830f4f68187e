package redisslot

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// waiting is a Limiter's state for the Acquire calls that wait: one queue
// per key of the local waiters, oldest first, and the wake-ups that the
// subscriber and the retry timers hand them.
type waiting struct {
	mu     sync.Mutex
	queues map[string]*queue // by wake-up channel
	sub    *subscriber       // nil until the first wait
	closed bool              // Close has stopped the subscriber

	// dropWake, when set, is asked about each wake-up message; true drops
	// it. For tests of lost wake-ups.
	dropWake atomic.Pointer[func(channel string) bool]
}

// A queue holds the waiters of one key on one Limiter, oldest first.
type queue struct {
	channel string
	waiters list.List // of *waiter
	// fresh marks a queue that the subscriber has not yet seen. A wake-up
	// published after its first waiter's failed try, but before the queue
	// existed, found no queue; so once subscribed, the oldest tries.
	fresh bool
}

// A waiter is one waiting Acquire call.
type waiter struct {
	q      *queue
	elem   *list.Element // in q.waiters
	woken  bool          // a wake-up is due and not yet tried; under mu
	probe  bool          // that wake-up guesses at a silent free; under mu
	notify chan struct{} // buffered 1: woken, or became the oldest
}

// wakeChannel names the pub/sub channel on which the frees of the slot set
// at rkey are announced.
func wakeChannel(rkey string) string { return rkey + ":wake" }

// has reports whether channel's key has local waiters.
func (w *waiting) has(channel string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queues[channel]
	return q != nil && q.waiters.Len() > 0
}

// count returns how many local waiters channel's key has.
func (w *waiting) count(channel string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q := w.queues[channel]; q != nil {
		return q.waiters.Len()
	}
	return 0
}

// join queues a new waiter at the back of channel's queue. It returns
// ErrClosed once the subscriber is stopped, and ErrFull when maxWaiters
// (if positive) already wait. start runs, under w.mu, when the queue is
// new: the subscriber must learn of it.
func (w *waiting) join(channel string, maxWaiters int, start func()) (*waiter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	q := w.queues[channel]
	if q != nil && maxWaiters > 0 && q.waiters.Len() >= maxWaiters {
		return nil, ErrFull
	}
	if q == nil {
		if w.queues == nil {
			w.queues = make(map[string]*queue)
		}
		q = &queue{channel: channel, fresh: true}
		w.queues[channel] = q
		start()
	}
	wt := &waiter{q: q, notify: make(chan struct{}, 1)}
	wt.elem = q.waiters.PushBack(wt)
	return wt, nil
}

// next takes wt's due wake-up, if any, and says whether wt is the oldest
// waiter of its key.
func (w *waiting) next(wt *waiter) (tryNow, probe, head bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tryNow, probe = wt.woken, wt.probe
	wt.woken, wt.probe = false, false
	return tryNow, probe, wt.q.waiters.Front() == wt.elem
}

// probe gives wt a wake-up on a guess that a slot freed silently.
func (w *waiting) probe(wt *waiter) {
	w.mu.Lock()
	wt.woken, wt.probe = true, true
	w.mu.Unlock()
}

// leave takes wt out of its queue. A wake-up wt did not try passes to the
// next waiter; so does a probe, when wt took a slot on a guess (then others
// may have freed silently with it); a new oldest waiter is told, so that it
// starts its retry timer. An empty queue is dropped; leave then reports
// true, and the subscriber must learn of it.
func (w *waiting) leave(wt *waiter, probeNext bool) (emptied bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := wt.q
	wasHead := q.waiters.Front() == wt.elem
	q.waiters.Remove(wt.elem)
	if q.waiters.Len() == 0 {
		delete(w.queues, q.channel)
		return true
	}
	if wt.woken {
		wakeOldest(q, 1, wt.probe)
	}
	if probeNext {
		wakeOldest(q, 1, true)
	}
	if wasHead {
		poke(q.waiters.Front().Value.(*waiter).notify)
	}
	return false
}

// wake wakes up to n waiters of channel that have no wake-up due, oldest
// first. A probe is a wake-up sent on a guess that a slot freed.
func (w *waiting) wake(channel string, n int, probe bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q := w.queues[channel]; q != nil {
		wakeOldest(q, n, probe)
	}
}

// wakeOldest wakes up to n waiters of q that have no wake-up due, oldest
// first. The caller holds the waiting's mu.
func wakeOldest(q *queue, n int, probe bool) {
	for e := q.waiters.Front(); e != nil && n > 0; e = e.Next() {
		if wt := e.Value.(*waiter); !wt.woken {
			wt.woken, wt.probe = true, probe
			poke(wt.notify)
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
