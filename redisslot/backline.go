package redisslot

import (
	"context"
	"sync"
)

// A backLine is a key's fallback line going back to Redis as the state
// ends: its waiters join Redis's line one after another, in their order,
// each once the one before it has joined or left.
//
// Its mu guards next, gone and moved.
type backLine struct {
	mu    sync.Mutex
	next  int           // the position whose turn it is
	gone  map[int]bool  // positions that ended before their turn
	moved chan struct{} // closed when next moves on
}

// A lineTurn is one waiter's place in a backLine. The zero lineTurn waits
// for nothing.
type lineTurn struct {
	line *backLine
	pos  int
}

// wait waits for the turn, for ctx to end, or for closing.
func (t lineTurn) wait(ctx context.Context, closing <-chan struct{}) {
	for t.line != nil {
		t.line.mu.Lock()
		now, moved := t.line.next >= t.pos, t.line.moved
		t.line.mu.Unlock()
		if now {
			return
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return
		case <-closing:
			return
		}
	}
}

// end lets the turn go: the call has joined Redis's line, or left. A turn
// ended before it came is skipped when it does. Later calls do nothing.
func (t *lineTurn) end() {
	b := t.line
	if b == nil {
		return
	}
	t.line = nil
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.pos != b.next {
		if b.gone == nil {
			b.gone = make(map[int]bool)
		}
		b.gone[t.pos] = true // never so for one before next: each ends once
		return
	}
	b.next++
	for b.gone[b.next] {
		delete(b.gone, b.next)
		b.next++
	}
	close(b.moved)
	b.moved = make(chan struct{})
}
