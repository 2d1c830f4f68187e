package redisslot

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// health follows whether Redis answers a Limiter's calls, each of which
// notes its outcome. The first unreachable error after an answer runs lost,
// and the first answer after one runs back, with no lock held, so in any
// order: each gets its change's number, which only grows, for its receiver
// to ignore a change older than one it already applied.
//
// A READONLY answer, from a master a failover demoted, which may have lost
// the last writes, is remembered: the next acquire that Redis admits or
// refuses otherwise (see acquired) has a round run at once, which finds the
// slots lost. A round answered READONLY runs again only until it has been
// sent over every connection open (see readOnlyReruns), so that a Limiter
// whose client reaches nothing but a replica is not sent a round at every
// probe.
type health struct {
	back func(change uint64)
	lost func(change uint64, err error)

	mu       sync.Mutex // guards down, changes and readOnly
	down     bool
	changes  uint64 // flips of down so far
	readOnly bool   // a call was answered READONLY since the last acquire answered
}

// probe pings Redis with client, bounded by every, and notes the outcome
// unless bg, the Limiter's, has ended.
func (h *health) probe(bg context.Context, client redis.UniversalClient, every time.Duration) {
	ctx, cancel := context.WithTimeout(bg, every)
	defer cancel()
	if err := client.Ping(ctx).Err(); bg.Err() == nil {
		h.note(err)
	}
}

// note records the outcome of a call whose caller's ctx was not done.
func (h *health) note(err error) {
	down := unreachable(err)
	h.mu.Lock()
	h.readOnly = h.readOnly || readOnly(err)
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

// acquired notes that an acquire got an answer other than READONLY, and
// reports whether one was answered READONLY before it (and not followed
// by a round that got every answer: see roundAnswered).
func (h *health) acquired() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	was := h.readOnly
	h.readOnly = false
	return was
}

// roundAnswered notes a renewal round whose every call was answered: it
// has found the slots a failover lost, so no acquire need run another.
func (h *health) roundAnswered() {
	h.mu.Lock()
	h.readOnly = false
	h.mu.Unlock()
}
