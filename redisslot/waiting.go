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

// waiting is a Limiter's waiting Acquire calls: a local queue per key, in
// Redis's order, and the wake-ups that releases, the subscriber and retry
// timers hand them. A waiter tries for a slot only when one is due to it.
//
// Its mu guards queues, closed, unheard, and the fields of every queue and
// waiter marked so. kick runs with no lock held.
type waiting struct {
	kick     func() // has the pending frees sent at once
	instance string // the start of this Limiter's member ids

	mu      sync.Mutex
	queues  map[string]*localQueue // by the name of the key's slot set
	closed  bool                   // Close has ended the waits
	unheard recentIDs              // ids of ours that wake-ups named before their waiter was here

	// Test hooks, set by SetDropWake, SetOnWake and SetOnArm.
	dropWake atomic.Pointer[func(channel string) bool]
	onWake   atomic.Pointer[func(channel string, woken int)]
	onArm    atomic.Pointer[func(time.Duration)]
}

// A localQueue holds one key's local waiters, in their order in Redis.
type localQueue struct {
	ref      *keyRef
	waiters  list.List          // of *waiter; under mu
	byMember map[string]*waiter // under mu
	fresh    bool               // changes has not seen it yet; under mu
}

// A waiter is one waiting Acquire call.
type waiter struct {
	q      *localQueue
	elem   *list.Element // in q.waiters
	member string        // its entry in the queue, and its slot's member id
	order  int64         // its place in the queue in Redis; under mu
	head   bool          // known to be first in line in Redis; under mu
	woken  bool          // a wake-up is due and not yet tried; under mu
	probe  bool          // that wake-up guesses at a silent free; under mu
	named  bool          // that wake-up is for this waiter alone (see call), so woken too; under mu
	turn   lineTurn      // its turn to go to the fallback share's line, set as the state begins; under mu
	notify chan struct{} // buffered 1: woken, or became the oldest
}

// wake gives wt a wake-up unless one is due, and reports whether it did.
func (wt *waiter) wake(probe bool) bool {
	if wt.woken {
		return false
	}
	wt.woken, wt.probe = true, probe
	poke(wt.notify)
	return true
}

// call gives wt a wake-up meant for it alone, unless one is due, and reports
// whether it did: a message naming it, or a release here while it is first
// in line. That room was counted for wt, and the message or the free names
// every other waiter whose turn it is; so if wt takes a slot meanwhile, in a
// try already on its way, the wake-up is spent and nobody else is woken.
func (wt *waiter) call() bool {
	if !wt.wake(false) {
		return false
	}
	wt.named = true
	return true
}

// len returns how many keys have local waiters.
func (w *waiting) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queues)
}

// join adds a waiter at its place in Redis (order, rank waiters ahead) to
// its key's local queue, and reports whether the queue is new.
func (w *waiting) join(ref *keyRef, member string, order, rank int64) (wt *waiter, fresh bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, false, ErrClosed
	}
	q := w.queues[ref.rkey()]
	if q == nil {
		if w.queues == nil {
			w.queues = make(map[string]*localQueue)
		}
		q = &localQueue{ref: ref, fresh: true, byMember: make(map[string]*waiter)}
		w.queues[ref.rkey()] = q
		fresh = true
	}
	wt = &waiter{q: q, member: member, order: order, head: rank == 0, notify: make(chan struct{}, 1)}
	wt.elem = q.waiters.PushBack(wt)
	q.byMember[member] = wt
	w.place(wt)
	return wt, fresh, nil
}

// place moves wt from the tail to its order, and gives it the wake-up that
// named it before it was here, if any.
func (w *waiting) place(wt *waiter) {
	e := wt.elem
	for p := e.Prev(); p != nil && p.Value.(*waiter).order > wt.order; p = e.Prev() {
		wt.q.waiters.MoveBefore(e, p)
	}
	if w.unheard.take(wt.member) {
		wt.call()
	}
}

// tried records the rank, and new order (-1: none), that a try not admitting
// wt returned. If wt, the oldest here, joined again behind others, the new
// oldest is told, to start its retry timer. Unless keepTurn, it returns
// wt's turn to go to the fallback share's line, if given, which wt,
// staying in Redis's, must end.
func (w *waiting) tried(wt *waiter, order, rank int64, keepTurn bool) (turn lineTurn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !keepTurn {
		turn, wt.turn = wt.turn, lineTurn{}
	}
	wt.head = rank == 0
	if order < 0 || order == wt.order {
		return turn
	}
	q := wt.q
	wasOldest := q.waiters.Front() == wt.elem
	wt.order = order
	q.waiters.MoveToBack(wt.elem)
	w.place(wt)
	if front := q.waiters.Front(); wasOldest && front != wt.elem {
		poke(front.Value.(*waiter).notify)
	}
	return turn
}

// next takes wt's due wake-up, and says whether wt is its key's oldest here.
func (w *waiting) next(wt *waiter) (tryNow, probe, oldest bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tryNow, probe = wt.woken, wt.probe
	wt.woken, wt.probe, wt.named = false, false, false
	return tryNow, probe, wt.q.waiters.Front() == wt.elem
}

// give gives wt a wake-up without notice: one it will not try, for leave to
// pass on, or a probe, a guess that a slot freed silently.
func (w *waiting) give(wt *waiter, probe bool) {
	w.mu.Lock()
	wt.woken, wt.probe, wt.named = true, probe, false
	w.mu.Unlock()
}

// leave takes wt out of its local queue, and reports whether the queue
// emptied and was dropped (the subscriber must learn of it); it returns
// wt's turn to go to the fallback share's line, if given. A wake-up wt
// did not try passes to the next waiter, unless wt took a slot and the
// wake-up was for wt alone (see call), and the frees are kicked in case it
// was to carry one; with probeNext (wt took a slot on a guess: others may
// have freed silently too) the next waiter probes too; a new oldest waiter
// is told, to start its retry timer.
func (w *waiting) leave(wt *waiter, took, probeNext bool) (emptied bool, turn lineTurn) {
	w.mu.Lock()
	turn, wt.turn = wt.turn, lineTurn{}
	q := wt.q
	wasOldest := q.waiters.Front() == wt.elem
	q.waiters.Remove(wt.elem)
	delete(q.byMember, wt.member)
	untried := wt.woken
	emptied = q.waiters.Len() == 0
	if emptied {
		delete(w.queues, q.ref.rkey())
	} else {
		if untried && !(took && wt.named) {
			wakeOldest(q, 1, wt.probe)
		}
		if probeNext {
			wakeOldest(q, 1, true)
		}
		if wasOldest {
			poke(q.waiters.Front().Value.(*waiter).notify)
		}
	}
	w.mu.Unlock()
	if untried {
		w.kick()
	}
	return emptied, turn
}

// lineUp gives each waiter that has none its turn to go to the fallback
// share's line, in each key's order, as the state begins: ahead of any
// turn not yet come in the key's moving line (see movingLines.front).
func (w *waiting) lineUp(front func(key string, k int) []lineTurn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var turnless []*waiter
	for _, q := range w.queues {
		turnless = turnless[:0]
		for e := q.waiters.Front(); e != nil; e = e.Next() {
			if wt := e.Value.(*waiter); !wt.turn.held() {
				turnless = append(turnless, wt)
			}
		}
		for i, turn := range front(q.ref.key, len(turnless)) {
			turnless[i].turn = turn
		}
	}
}

// handOff wakes the oldest waiter of rkey after a release here, if it is
// known to be first in line with no wake-up due: its try carries the free
// and takes the slot. It reports whether it did; if not, kick the free.
func (w *waiting) handOff(rkey string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queues[rkey]
	if q == nil {
		return false
	}
	wt := q.waiters.Front().Value.(*waiter)
	return wt.head && wt.call()
}

// wake wakes up to n waiters of rkey (of all keys if empty); returns how many.
func (w *waiting) wake(rkey string, n int, probe bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rkey != "" {
		if q := w.queues[rkey]; q != nil {
			return wakeOldest(q, n, probe)
		}
		return 0
	}
	woken := 0
	for _, q := range w.queues {
		woken += wakeOldest(q, n, probe)
	}
	return woken
}

// wakeNamed wakes the waiters of rkey that a wake-up message names (member
// ids, first in line first), and returns how many. A message that is a
// number n (as an operator may publish) wakes the n oldest.
func (w *waiting) wakeNamed(rkey, payload string) int {
	if isCount(payload) { // checked first: a failed Atoi allocates its error
		n, _ := strconv.Atoi(payload)
		return w.wake(rkey, max(n, 1), false)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queues[rkey]
	if q == nil {
		return 0
	}
	woken, first := 0, true
	for id := range strings.FieldsSeq(payload) {
		if wt := q.byMember[id]; wt != nil {
			wt.head = wt.head || first // the first named is first in line
			if wt.call() {
				woken++
			}
		} else if strings.HasPrefix(id, w.instance) {
			w.unheard.add(id) // ours, but its join's reply is not read yet
		}
		first = false
	}
	return woken
}

// isCount reports whether payload is a few digits (member ids hold letters).
func isCount(payload string) bool {
	return payload != "" && len(payload) <= 9 && strings.Trim(payload, "0123456789") == ""
}

// rejoin wakes the waiters of q that gone names and that are still here,
// to join the queue again.
func (w *waiting) rejoin(q *localQueue, gone []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range gone {
		if wt := q.byMember[m]; wt != nil {
			wt.wake(false)
		}
	}
}

// close ends the waits: join then returns ErrClosed.
func (w *waiting) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// wakeOldest wakes up to n waiters of q, oldest first, and returns how many.
func wakeOldest(q *localQueue, n int, probe bool) int {
	woken := 0
	for e := q.waiters.Front(); e != nil && woken < n; e = e.Next() {
		if e.Value.(*waiter).wake(probe) {
			woken++
		}
	}
	return woken
}

// poke sends on a channel buffered 1 without blocking.
func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// changes returns the wake-up channels of the keys that gained local
// waiters and of those that lost them, given the keys (names of their slot
// sets) subscribed to, which it updates. A wake-up published before a queue
// existed found nobody, and a fresh queue of a key still subscribed to gets
// no confirmation to wake its oldest waiter: that one tries at once.
func (w *waiting) changes(subscribed map[string]bool) (add, remove []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for rkey, q := range w.queues {
		if !subscribed[rkey] {
			add = append(add, wakeChannel(rkey)) // its confirmation wakes the oldest waiter
			subscribed[rkey] = true
		} else if q.fresh {
			wakeOldest(q, 1, true)
		}
		q.fresh = false
	}
	for rkey := range subscribed {
		if w.queues[rkey] == nil {
			remove = append(remove, wakeChannel(rkey))
			delete(subscribed, rkey)
		}
	}
	return add, remove
}

// recentIDs remembers the last few ids added, for take to find.
type recentIDs struct {
	ids  [16]string
	next int
}

func (r *recentIDs) add(id string) {
	r.ids[r.next] = id
	r.next = (r.next + 1) % len(r.ids)
}

// take reports whether id was added and not taken since, and forgets it.
func (r *recentIDs) take(id string) bool {
	for i := range r.ids {
		if r.ids[i] == id {
			r.ids[i] = ""
			return true
		}
	}
	return false
}

// A retryTimer is the oldest waiter's timer for trying on its own.
type retryTimer struct {
	t  *time.Timer
	ch <-chan time.Time // t.C while armed, else nil
}

// arm starts the timer, unless armed, for a retryDelay of interval, and returns it (0 if armed).
func (r *retryTimer) arm(interval time.Duration) time.Duration {
	if r.ch != nil {
		return 0
	}
	d := retryDelay(interval)
	if r.t == nil {
		r.t = time.NewTimer(d)
	} else {
		r.t.Reset(d)
	}
	r.ch = r.t.C
	return d
}

// disarm forgets the running timer: its next fire is not waited for.
func (r *retryTimer) disarm() { r.ch = nil }

// c returns the timer's channel while it is armed, else nil.
func (r *retryTimer) c() <-chan time.Time { return r.ch }

func (r *retryTimer) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}

// retryDelay returns a random time in the upper half of interval.
func retryDelay(interval time.Duration) time.Duration {
	return interval/2 + rand.N(interval/2+1)
}
