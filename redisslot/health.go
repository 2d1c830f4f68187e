package redisslot

import "sync"

// health follows whether Redis answers a Limiter's calls: each notes its
// outcome. The first unreachable error after an answer runs lost, and the
// first answer after it runs back, with no lock held. Its mu guards down.
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

func (h *health) isDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down
}
