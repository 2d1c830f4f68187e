package slots

import (
	"container/list"
	"context"
)

// A waiter is one Acquire call waiting in a key's line.
type waiter struct {
	ctx   context.Context
	limit int
	ready chan struct{} // closed once slot or err is set
	elem  *list.Element // in its key's waiters; nil once out of the line
	slot  *slot         // the slot handed to it, if any
	err   error         // why it left the line without a slot, if it did
}

// join puts a new waiter at the back of k's line. l.mu must be held.
func (k *keyState) join(ctx context.Context, limit int) *waiter {
	w := &waiter{ctx: ctx, limit: limit, ready: make(chan struct{})}
	w.elem = k.waiters.PushBack(w)
	return w
}

// serve hands slots to k's waiters, oldest first, while the oldest is
// admitted by its own limit. It stops at the first waiter that is not, so
// that nobody behind it is served first. A waiter whose ctx is already done
// leaves the line without a slot. l.mu must be held.
func (l *Local) serve(k *keyState) {
	for e := k.waiters.Front(); e != nil; e = k.waiters.Front() {
		w := e.Value.(*waiter)
		if err := w.ctx.Err(); err != nil {
			k.remove(w)
			w.err = err
			close(w.ready)
			continue
		}
		if k.held >= w.limit {
			return
		}
		k.remove(w)
		w.slot = l.hold(k, w.ctx)
		close(w.ready)
	}
}

// remove takes w out of k's line. l.mu must be held.
func (k *keyState) remove(w *waiter) {
	k.waiters.Remove(w.elem)
	w.elem = nil
}

// closeWaiters ends every wait for k with ErrClosed. l.mu must be held.
func (k *keyState) closeWaiters() {
	for e := k.waiters.Front(); e != nil; e = k.waiters.Front() {
		w := e.Value.(*waiter)
		k.remove(w)
		w.err = ErrClosed
		close(w.ready)
	}
}

// wait waits, on the caller's goroutine, until w is handed a slot, is
// told to leave (by Close), or ctx is done, and then settles the outcome by
// one path, whichever woke it: still in line, it leaves; handed a slot
// whose context is live, it takes it; handed a slot whose context has
// ended since (ctx ended as the slot came, or Close took it back), it gives
// the slot back, and returns ctx.Err(), or ErrClosed.
func (l *Local) wait(ctx context.Context, k *keyState, w *waiter) (context.Context, func(), error) {
	select {
	case <-w.ready:
	case <-ctx.Done():
	}
	l.mu.Lock()
	if w.elem != nil { // still in line: ctx ended first
		k.remove(w)
		l.serve(k) // w may have held back those behind it
		l.dropIfIdle(k)
		l.mu.Unlock()
		return nil, nil, ctx.Err()
	}
	l.mu.Unlock()
	if w.err != nil {
		return nil, nil, w.err
	}
	s := w.slot
	if s.ctx.Err() == nil { // a child of ctx: ctx is not done either
		return s.ctx, s.guard(ctx), nil
	}
	s.free(context.Cause(ctx)) // so that the next waiter gets it
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return nil, nil, ErrClosed // Close took the slot back; ctx is live
}
