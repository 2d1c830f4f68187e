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

// wait waits, on the caller's goroutine, until w is handed a slot, leaves
// the line for a reason serve or Close gave, or ctx is done. A slot handed
// to w whose context has ended since (ctx ended, or Close took it back) is
// given back, and wait returns ctx.Err(), or ErrClosed.
func (l *Local) wait(ctx context.Context, k *keyState, w *waiter) (context.Context, func(), error) {
	select {
	case <-w.ready:
		if w.err != nil {
			return nil, nil, w.err
		}
		if w.slot.ctx.Err() == nil { // a child of ctx: ctx is not done either
			return w.slot.ctx, w.slot.guard(ctx), nil
		}
	case <-ctx.Done():
	}
	l.leave(k, w)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return nil, nil, ErrClosed // the slot's context ended, ctx's did not
}

// leave takes w, whose ctx is done, out of the line, or gives back the
// slot it was handed meanwhile, so that the next waiter gets it.
func (l *Local) leave(k *keyState, w *waiter) {
	l.mu.Lock()
	s := w.slot
	if w.elem != nil {
		k.remove(w)
		l.serve(k) // w may have held back those behind it
		l.dropIfIdle(k)
	}
	l.mu.Unlock()
	if s != nil {
		s.free(context.Cause(w.ctx))
	}
}
