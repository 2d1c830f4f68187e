package redisslot

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// A fallback is the share of each key's slots that a Limiter admits on its
// own while Redis cannot be reached (see Options.Fallback): the count, per
// key, of its fallback slots that Redis does not know yet, and the line of
// callers waiting for one, first come first served, under the key's cap.
// Once Redis answers again it grants no more (on a Redis Cluster, to the
// keys of a master out of reach, once that master answers); the state ends,
// and the line goes back to Redis in its order, when Redis knows every
// fallback slot still held.
//
// Its mu guards every field below it; report runs with no lock held.
type fallback struct {
	share  func(key string, limit int) int // nil: no fallback state at all
	report func(error)
	lines  *movingLines // where the lines go back to Redis
	// down, on a Redis Cluster client (else nil), tells whether the master
	// at an address is still out of reach: its keys are granted fallback
	// slots until it answers, whatever another master answers.
	down func(addr string) bool
	// lineUp, called under mu as the state begins, gives the waiters of
	// Redis's lines their turns to the share's.
	lineUp func()

	mu       sync.Mutex
	on       bool                 // the state is on
	granting bool                 // on, and Redis has not answered since it was last lost
	change   uint64               // the last health change applied (see health)
	keys     map[string]*shareKey // by key, while it has fallback slots or waiters
	held     int                  // fallback slots that Redis does not know yet, of all keys
	ended    chan struct{}        // closed when the state ends: the waiters go back to Redis
	served   atomic.Uint64        // fallback slots returned to callers, since New
}

type shareKey struct {
	held    int       // fallback slots that Redis does not know yet (ended or not: see adopted)
	live    int       // fallback slots still held, known to Redis or not: what the share bounds
	waiters list.List // of *shareWaiter, oldest first
}

type shareWaiter struct {
	share  int
	master string // on a cluster, its key's master ("": one the client cannot name)
	elem   *list.Element
	ready  chan struct{} // closed when granted
	back   lineTurn      // its turn to go back to Redis, set as the state ends; under mu
}

// lineUp gives each waiter of key's line, sk's, that has none its turn back
// to Redis, in order: ahead of any turn not yet come in the key's moving
// line (see movingLines.front). The fallback's mu is held.
func (sk *shareKey) lineUp(key string, lines *movingLines) {
	var turnless []*shareWaiter
	for e := sk.waiters.Front(); e != nil; e = e.Next() {
		if w := e.Value.(*shareWaiter); !w.back.held() {
			turnless = append(turnless, w)
		}
	}
	for i, turn := range lines.front(key, len(turnless)) {
		turnless[i].back = turn
	}
}

// errBackToRedis ends a wait for a fallback slot when Redis answers again.
var errBackToRedis = errors.New("redisslot: Redis answers again")

func (f *fallback) enabled() bool { return f.share != nil }

func (f *fallback) degraded() bool {
	if !f.enabled() {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.on
}

// enter, called only when enabled, begins the state, if off, because of
// err, and grants fallback slots again if Redis answered since it began,
// unless a later health change than change was applied: first to the
// callers already in line, in order.
func (f *fallback) enter(change uint64, err error) {
	f.mu.Lock()
	begun := change >= f.change && !f.on
	if change >= f.change {
		resumed := f.on && !f.granting
		f.change, f.granting = change, true
		if resumed {
			for key, sk := range f.keys {
				f.serve(key, sk)
			}
		}
	}
	if begun {
		f.on, f.ended = true, make(chan struct{})
		if f.lineUp != nil {
			f.lineUp() // before a caller can see the state on
		}
	}
	f.mu.Unlock()
	if begun {
		f.report(fmt.Errorf("redisslot: Redis cannot be reached; serving each key's fallback share: %w", err))
	}
}

// answered stops granting fallback slots, Redis having answered (health
// change change), unless a later change was applied: on a Redis Cluster,
// but to the keys of a master still out of reach (see grants). The waiters
// wait on, for Redis to know the fallback slots still held.
func (f *fallback) answered(change uint64) {
	f.mu.Lock()
	if change >= f.change {
		f.change, f.granting = change, false
	}
	f.mu.Unlock()
}

// leave ends the state once it grants no more and Redis knows every
// fallback slot still held.
func (f *fallback) leave() {
	if !f.enabled() {
		return
	}
	f.mu.Lock()
	ended := f.on && !f.granting && f.held == 0
	if ended {
		f.on = false
		for key, sk := range f.keys {
			sk.lineUp(key, f.lines) // the lines go back to Redis in their order
		}
		close(f.ended)
	}
	f.mu.Unlock()
	if ended {
		f.report(errors.New("redisslot: Redis answers again; the fallback shares are ended"))
	}
}

// stop ends the state, if on, for a Limiter closed with no call in flight
// (Close has dropped the fallback slots), and reports that it ended.
func (f *fallback) stop() {
	if !f.enabled() {
		return
	}
	f.mu.Lock()
	ended := f.on
	if ended {
		f.on, f.granting = false, false
		close(f.ended)
	}
	f.keys, f.held = nil, 0
	f.mu.Unlock()
	if ended {
		f.report(errors.New("redisslot: closing; the fallback shares are ended"))
	}
}

// takeShare hands out a fallback slot of key, to a caller whose share of
// key is share, if it grants for key's master (see grants), the share has
// room and nobody waits; on reports whether the share serves key at all.
func (f *fallback) takeShare(key, master string, share int) (taken, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.on || share <= 0 {
		return false, false
	}
	sk := f.keys[key]
	if f.grants(master) && (sk == nil || sk.waiters.Len() == 0 && sk.live < share) {
		sk = f.key(key)
		sk.held++
		sk.live++
		f.held++
		return true, true
	}
	return false, true
}

// grants reports whether fallback slots are granted to the keys of master
// ("": one the client cannot name, or not a cluster): while the state is
// on, until Redis answers a call sent after it began, or on a cluster, for
// the keys of a master out of reach, until that master answers. The
// caller holds mu.
func (f *fallback) grants(master string) bool {
	return f.on && (f.granting || master != "" && f.down != nil && f.down(master))
}

// key returns key's state, made if need be. The caller holds mu.
func (f *fallback) key(key string) *shareKey {
	if f.keys == nil {
		f.keys = make(map[string]*shareKey)
	}
	sk := f.keys[key]
	if sk == nil {
		sk = &shareKey{}
		f.keys[key] = sk
	}
	return sk
}

// waitShare waits in key's line, of capacity (0: no cap), for a fallback
// slot for a caller whose share of key is share, until it gets one (nil),
// ctx is done (ctx's error), closing is closed (ErrClosed), or the state
// ends (errBackToRedis, with the caller's turn to join Redis's line, which
// it must end) or the share is 0 or less (errBackToRedis). A line at its
// cap refuses at once (ErrQueueFull). The caller's turn to join the line,
// if it holds one, ends once it has.
func (f *fallback) waitShare(ctx context.Context, key, master string, share, capacity int, closing <-chan struct{}, turn *lineTurn) (lineTurn, error) {
	f.mu.Lock()
	if !f.on || share <= 0 {
		f.mu.Unlock()
		return lineTurn{}, errBackToRedis
	}
	sk := f.key(key)
	if capacity > 0 && sk.waiters.Len() >= capacity { // never so for an sk just made
		f.mu.Unlock()
		return lineTurn{}, ErrQueueFull
	}
	w := &shareWaiter{share: share, master: master, ready: make(chan struct{})}
	w.elem = sk.waiters.PushBack(w)
	turn.end() // in the line: the next one joins
	ended := f.ended
	f.serve(key, sk)
	f.mu.Unlock()
	select {
	case <-w.ready:
		return f.giveUp(key, sk, w, nil)
	case <-ctx.Done():
		return f.giveUp(key, sk, w, ctx.Err())
	case <-closing:
		return f.giveUp(key, sk, w, ErrClosed)
	case <-ended: // w.back was set before ended was closed
		return f.giveUp(key, sk, w, errBackToRedis)
	}
}

// giveUp leaves w's line, or, unless err is nil, hands on the slot granted
// meanwhile; it returns err, and with errBackToRedis w's turn back to
// Redis, which any other end gives up.
func (f *fallback) giveUp(key string, sk *shareKey, w *shareWaiter, err error) (lineTurn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	back := w.back
	w.back = lineTurn{}
	if err != errBackToRedis {
		back.end()
	}
	switch {
	case w.elem != nil:
		sk.waiters.Remove(w.elem)
		w.elem = nil
	case err == nil:
		return lineTurn{}, nil // granted: the slot is the caller's
	default:
		sk.held--
		sk.live--
		f.held--
	}
	f.serve(key, sk)
	if err != errBackToRedis {
		return lineTurn{}, err
	}
	return back, err
}

// serve grants slots to sk's waiters in order while there is room, then
// forgets key if it has no fallback slot, live or awaiting adoption, nor
// waiter. mu is held.
func (f *fallback) serve(key string, sk *shareKey) {
	for e := sk.waiters.Front(); e != nil; e = sk.waiters.Front() {
		w := e.Value.(*shareWaiter)
		if !f.grants(w.master) || sk.live >= w.share {
			break
		}
		sk.waiters.Remove(e)
		w.elem = nil
		sk.held++
		sk.live++
		f.held++
		close(w.ready)
	}
	if sk.live == 0 && sk.held == 0 && sk.waiters.Len() == 0 {
		delete(f.keys, key)
	}
}

// pending reports whether key has fallback slots that Redis does not know
// yet, or callers waiting in its share's line: while the state is on, its
// callers stay with its share, whatever its master (see nodeReach), as
// Redis would admit up to the limit beside those slots.
func (f *fallback) pending(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	sk := f.keys[key]
	return sk != nil && (sk.held > 0 || sk.waiters.Len() > 0)
}

// put counts one fallback slot of key no more: freed before Redis knew it.
func (f *fallback) put(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sk := f.keys[key]; sk != nil {
		sk.held--
		sk.live--
		f.held--
		f.serve(key, sk)
	}
}

// adopted records that Redis knows one fallback slot of key: it still
// counts in key's share until it ends (see adoptedEnded), which may come
// first: the holder may release it as its adoption settles.
func (f *fallback) adopted(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sk := f.keys[key]; sk != nil {
		sk.held--
		f.held--
		f.serve(key, sk)
	}
}

// adoptedEnded counts no more, in key's share, a fallback slot that Redis knew:
// released, lost or expired.
func (f *fallback) adoptedEnded(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sk := f.keys[key]; sk != nil {
		sk.live--
		f.serve(key, sk)
	}
}
