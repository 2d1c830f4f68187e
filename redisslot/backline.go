package redisslot

import (
	"context"
	"sync"
	"sync/atomic"
)

// A backLine is a key's line moving between Redis and the fallback share:
// as the state begins, the waiters of its queue in Redis go to the share's
// line; as it ends, the share's line goes back to Redis. Each waiter moves
// in its turn, in their order, once the one before it has moved or left;
// a caller that comes meanwhile takes a turn at the end. If the state
// changes again before every turn has come, the waiters the line has
// already moved take turns at the front, ahead of those still on their way
// (see takeFront).
//
// Its mu guards the fields below it; drained is set before the line is
// shared and never changes.
type backLine struct {
	drained func() // called once every turn given has ended; never under mu

	mu    sync.Mutex
	n     int           // turns given
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

// take gives a turn at the end of b, unless every turn given has ended.
func (b *backLine) take() (lineTurn, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n > 0 && b.next >= b.n {
		return lineTurn{}, false
	}
	b.n++
	return lineTurn{line: b, pos: b.n - 1}, true
}

// takeFront gives k turns, in order, ahead of every turn not yet come,
// unless every turn given has ended: the positions before next have all
// ended, so they are free to give again.
func (b *backLine) takeFront(k int) ([]lineTurn, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n > 0 && b.next >= b.n {
		return nil, false
	}
	b.next -= k
	turns := make([]lineTurn, k)
	for i := range turns {
		turns[i] = lineTurn{line: b, pos: b.next + i}
	}
	return turns, true
}

// held reports whether t is a turn not yet ended.
func (t lineTurn) held() bool { return t.line != nil }

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

// end lets the turn go: the call has moved, or left. A turn ended before it
// came is skipped when it does. Later calls do nothing.
func (t *lineTurn) end() {
	b := t.line
	if b == nil {
		return
	}
	t.line = nil
	b.mu.Lock()
	if t.pos != b.next {
		if b.gone == nil {
			b.gone = make(map[int]bool)
		}
		b.gone[t.pos] = true // never so for one before next: each ends once
		b.mu.Unlock()
		return
	}
	b.next++
	for b.gone[b.next] {
		delete(b.gone, b.next)
		b.next++
	}
	close(b.moved)
	b.moved = make(chan struct{})
	drained := b.next >= b.n
	b.mu.Unlock()
	if drained && b.drained != nil {
		b.drained()
	}
}

// movingLines are the keys' lines moving between Redis and the share, each
// kept until every turn in it has ended.
//
// Its mu guards byKey; n counts its lines, so that a key with none costs
// an atomic load.
type movingLines struct {
	n     atomic.Int32
	mu    sync.Mutex
	byKey map[string]*backLine
}

// join gives a turn at the end of key's moving line, begun if need be.
func (m *movingLines) join(key string) lineTurn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.byKey[key]; b != nil {
		if t, ok := b.take(); ok {
			return t
		}
	}
	t, _ := m.begin(key).take()
	return t
}

// front gives k turns, in order, ahead of every turn not yet come in key's
// moving line, begun if need be: the turns of the waiters that the line
// has already brought where it goes, as the state changes again, for them
// to move back ahead of those still on their way.
func (m *movingLines) front(key string, k int) []lineTurn {
	if k == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.byKey[key]; b != nil {
		if turns, ok := b.takeFront(k); ok {
			return turns
		}
	}
	turns := make([]lineTurn, k)
	b := m.begin(key)
	for i := range turns {
		turns[i], _ = b.take()
	}
	return turns
}

// begin begins key's line, in place of any drained one. mu is held.
func (m *movingLines) begin(key string) *backLine {
	if m.byKey == nil {
		m.byKey = make(map[string]*backLine)
	}
	b := &backLine{moved: make(chan struct{})}
	b.drained = func() { m.drop(key, b) }
	m.byKey[key] = b
	m.n.Store(int32(len(m.byKey)))
	return b
}

// behind gives a turn at the end of key's line if it is moving.
func (m *movingLines) behind(key string) (lineTurn, bool) {
	if m.n.Load() == 0 {
		return lineTurn{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.byKey[key]; b != nil {
		return b.take()
	}
	return lineTurn{}, false
}

// drop forgets key's line b, drained.
func (m *movingLines) drop(key string, b *backLine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byKey[key] == b {
		delete(m.byKey, key)
		m.n.Store(int32(len(m.byKey)))
	}
}
