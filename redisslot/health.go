package redisslot

import "sync"

// health follows whether Redis answers a Limiter's calls. Every call notes
// its outcome: an error that shows Redis cannot be reached (see
// unreachable) marks it down; any answer, an error reply included, marks
// it up. The first failure after it was up runs lost, and the first answer
// after it was down runs back, with no lock held.
type health struct {
	back func()
	lost func(error)

	mu   sync.Mutex
	down bool
}

// note records the outcome of a call whose caller's ctx was not done.
func (h *health) note(err error) {
	down := unreachable(err)
	h.mu.Lock()
	was := h.down
	h.down = down
	h.mu.Unlock()
	switch {
	case was && !down:
		h.back()
	case !was && down:
		h.lost(err)
	}
}

// isDown reports whether the last call noted could not reach Redis.
func (h *health) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}
