package slots

import "container/list"

// A keyState is the state of one key that is held or waited for. Local
// drops it, by dropIfIdle, as soon as neither is true.
type keyState struct {
	key     string
	held    int       // slots handed out and not yet freed, granted waiters included
	slots   *slot     // held slots, newest first, linked through prev and next
	waiters list.List // of *waiter, oldest first
}

// minShrink is the table size below which Local never rebuilds its table
// of keys: rebuilding a small table saves less than it costs.
const minShrink = 1024

// key returns k, or a new keyState for key, entered in l.keys, if k is nil.
// l.mu must be held.
func (l *Local) key(k *keyState, key string) *keyState {
	if k != nil {
		return k
	}
	if l.keys == nil {
		l.keys = make(map[string]*keyState)
	}
	k = &keyState{key: key}
	l.keys[key] = k
	l.peak = max(l.peak, len(l.keys))
	return k
}

// admits reports whether a caller passing limit may take a slot of k now:
// nobody waits, and fewer than limit hold it.
func (k *keyState) admits(limit int) bool {
	return k.waiters.Len() == 0 && k.held < limit
}

// dropIfIdle removes k from l.keys if nobody holds or waits for it. A Go
// map keeps the room of deleted entries, so once the table holds less than
// a quarter of its peak, it is copied into a new map of the right size and
// the old one is left to the garbage collector. l.mu must be held.
func (l *Local) dropIfIdle(k *keyState) {
	if k.held > 0 || k.waiters.Len() > 0 || l.closed {
		return
	}
	delete(l.keys, k.key)
	if l.peak < minShrink || len(l.keys) >= l.peak/4 {
		return
	}
	keys := make(map[string]*keyState, len(l.keys))
	for key, k := range l.keys {
		keys[key] = k
	}
	l.keys, l.peak = keys, len(keys)
}
