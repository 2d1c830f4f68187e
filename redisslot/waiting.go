package redisslot

import (
	"container/list"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// waiting is a Limiter's state for the Acquire calls that wait: one local
// queue per key of this Limiter's waiters, in the order of their entries in
// the key's queue in Redis, and the wake-ups that the subscriber and the
// retry timers hand them.
type waiting struct {
	mu       sync.Mutex
	queues   map[string]*queue // by wake-up channel
	sub      *subscriber       // nil until the first wait
	closed   bool              // Close has stopped the subscriber
	renewing bool              // the entry renewer runs

	// dropWake, when set, is asked about each wake-up message; true drops
	// it. For tests of lost wake-ups.
	dropWake atomic.Pointer[func(channel string) bool]
	// onWake, when set, hears how many waiters each wake-up message woke,
	// after it woke them. For tests.
	onWake atomic.Pointer[func(channel string, woken int)]
	// onArm, when set, hears the delay of each retry timer armed. For
	// tests.
	onArm atomic.Pointer[func(time.Duration)]
}

// A queue holds the waiters of one key on one Limiter, in their order in
// the key's queue in Redis.
type queue struct {
	channel  string
	key      string // as the caller named it, for errors
	rkey     string // the key's slot set
	waiters  list.List
	byMember map[string]*waiter
	// fresh marks a queue that the subscriber has not yet seen. A wake-up
	// published after its first waiter joined in Redis, but before the
	// queue existed here, found no queue; so once subscribed, the oldest
	// tries.
	fresh bool
}

// A waiter is one waiting Acquire call.
type waiter struct {
	q      *queue
	elem   *list.Element // in q.waiters
	key    string        // as the caller named it
	rkey   string        // the key's slot set
	member string        // its entry in the queue, and its slot's member id
	order  int64         // its place in the queue in Redis; under mu
	left   bool          // it left the local queue; under mu
	woken  bool          // a wake-up is due and not yet tried; under mu
	probe  bool          // that wake-up guesses at a silent free; under mu
	notify chan struct{} // buffered 1: woken, or became the oldest
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

// join adds a waiter, whose entry in Redis is member at order, to its
// key's local queue: this is where a waiter joins. It returns ErrClosed
// once the subscriber is stopped. start runs, under w.mu, when the queue is
// new: the subscriber must learn of it, and the entry renewer must run.
func (w *waiting) join(key, rkey, member string, order int64, start func()) (*waiter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	channel := wakeChannel(rkey)
	q := w.queues[channel]
	if q == nil {
		if w.queues == nil {
			w.queues = make(map[string]*queue)
		}
		q = &queue{channel: channel, key: key, rkey: rkey, fresh: true, byMember: make(map[string]*waiter)}
		w.queues[channel] = q
		start()
	}
	wt := &waiter{q: q, key: key, rkey: rkey, member: member, order: order, notify: make(chan struct{}, 1)}
	wt.elem = q.waiters.PushBack(wt)
	q.byMember[member] = wt
	w.place(wt)
	return wt, nil
}

// place moves wt back from the tail to its order, and, if that is not the
// back (a later waiter of this Limiter was here first), gives it a wake-up:
// one due to it may have gone to a later waiter. The caller holds w.mu.
func (w *waiting) place(wt *waiter) {
	e := wt.elem
	for p := e.Prev(); p != nil && p.Value.(*waiter).order > wt.order; p = e.Prev() {
		wt.q.waiters.MoveBefore(e, p)
	}
	if e.Next() != nil && !wt.woken {
		wt.woken, wt.probe = true, true
		poke(wt.notify)
	}
}

// reorder records wt's order in Redis, which changes when it joined again
// at the back, its entry having ended.
func (w *waiting) reorder(wt *waiter, order int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if order == wt.order {
		return
	}
	wt.order = order
	wt.q.waiters.MoveToBack(wt.elem)
	w.place(wt)
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

// unuse gives wt back a wake-up it took but will not try, so that leave
// passes it on.
func (w *waiting) unuse(wt *waiter, probe bool) {
	w.mu.Lock()
	wt.woken, wt.probe = true, probe
	w.mu.Unlock()
}

// probe gives wt a wake-up on a guess that a slot freed silently.
func (w *waiting) probe(wt *waiter) {
	w.mu.Lock()
	wt.woken, wt.probe = true, true
	w.mu.Unlock()
}

// leave takes wt out of its local queue: this is where a waiter leaves. A
// wake-up wt did not try passes to the next waiter; so does a probe, when
// wt took a slot on a guess (then others may have freed silently with it);
// a new oldest waiter is told, so that it starts its retry timer. An empty
// queue is dropped; leave then reports true, and the subscriber must learn
// of it.
func (w *waiting) leave(wt *waiter, probeNext bool) (emptied bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := wt.q
	wasHead := q.waiters.Front() == wt.elem
	q.waiters.Remove(wt.elem)
	delete(q.byMember, wt.member)
	wt.left = true
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
// first, and returns how many it woke. A probe is a wake-up sent on a
// guess that a slot freed.
func (w *waiting) wake(channel string, n int, probe bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if q := w.queues[channel]; q != nil {
		return wakeOldest(q, n, probe)
	}
	return 0
}

// wakeFor wakes the waiters a wake-up message names, space-separated
// member ids, that wait here and have no wake-up due, and returns how many
// it woke. A message that is a number n (as a test may publish) wakes the
// n oldest.
func (w *waiting) wakeFor(channel, payload string) int {
	if isCount(payload) { // checked first: a failed Atoi allocates its error
		n, _ := strconv.Atoi(payload)
		return w.wake(channel, max(n, 1), false)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queues[channel]
	if q == nil {
		return 0
	}
	woken := 0
	for id := range strings.FieldsSeq(payload) {
		if wt := q.byMember[id]; wt != nil && !wt.woken {
			wt.woken, wt.probe = true, false
			poke(wt.notify)
			woken++
		}
	}
	return woken
}

// isCount reports whether a wake-up's payload is a count: a few decimal
// digits, where member ids hold letters and a dash.
func isCount(payload string) bool {
	if payload == "" || len(payload) > 9 {
		return false
	}
	for i := 0; i < len(payload); i++ {
		if payload[i] < '0' || payload[i] > '9' {
			return false
		}
	}
	return true
}

// nudge wakes the oldest local waiter of channel's key, if it has no
// wake-up due, when a local holder of the key released its slot: its try
// carries the pending free, so when it is first in line it takes the slot
// in one round trip, without waiting for the free to reach Redis and the
// wake-up to come back. If it is not first, its try publishes the wake-up
// that the free would have.
func (w *waiting) nudge(channel string) {
	w.wake(channel, 1, false)
}

// wakeOldest wakes up to n waiters of q that have no wake-up due, oldest
// first, and returns how many it woke. The caller holds the waiting's mu.
func wakeOldest(q *queue, n int, probe bool) int {
	woken := 0
	for e := q.waiters.Front(); e != nil && woken < n; e = e.Next() {
		if wt := e.Value.(*waiter); !wt.woken {
			wt.woken, wt.probe = true, probe
			poke(wt.notify)
			woken++
		}
	}
	return woken
}

// poke sends on a channel buffered 1 without blocking.
func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// A retryTimer is the oldest waiter's timer for trying on its own.
type retryTimer struct {
	t     *time.Timer
	armed bool
}

// arm starts the timer, if it is not running, for a random time in the
// upper half of interval, and returns that time (0 if it was running).
func (r *retryTimer) arm(interval time.Duration) time.Duration {
	if r.armed {
		return 0
	}
	d := retryDelay(interval)
	if r.t == nil {
		r.t = time.NewTimer(d)
	} else {
		r.t.Reset(d)
	}
	r.armed = true
	return d
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

// retryDelay returns a random time in the upper half of interval.
func retryDelay(interval time.Duration) time.Duration {
	return interval/2 + rand.N(interval/2+1)
}
