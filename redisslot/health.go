package redisslot

import "sync"

// health follows whether Redis answers a Limiter's calls, each of which
// notes its outcome. The first unreachable error after an answer runs lost,
// and the first answer after one runs back, with no lock held, so in any
// order: each gets its change's number, which only grows, for its receiver
// to ignore a change older than one it already applied.
type health struct {
	back func(change uint64)
	lost func(change uint64, err error)

	mu      sync.Mutex // guards down and changes
	down    bool
	changes uint64 // flips of down so far
}

// note records the outcome of a call whose caller's ctx was not done.
func (h *health) note(err error) {
	down := unreachable(err)
	h.mu.Lock()
	was := h.down
	h.down = down
	if was != down {
		h.changes++
	}
	change := h.changes
	h.mu.Unlock()
	switch {
	case was && !down:
		h.back(change)
	case !was && down:
		h.lost(change, err)
	}
}

func (h *health) isDown() bool {
	down, _ := h.state()
	return down
}

// state returns whether Redis is down, and the number of the last change.
func (h *health) state() (down bool, change uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down, h.changes
}
