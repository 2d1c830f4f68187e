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
// to ignore a change older than one it already applied. While Redis is
// down, an answer to a call sent before it was found down tells nothing of
// Redis now: Redis may have answered before the link was cut, and the
// reply come after a later call failed. It changes nothing.
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

	mu       sync.Mutex // guards down, since, changes and readOnly
	down     bool
	since    time.Time // when down last began
	changes  uint64    // flips of down so far
	readOnly bool      // a call was answered READONLY since the last acquire answered
}

// probe pings Redis with client, bounded by every, and notes the outcome
// unless bg, the Limiter's, has ended.
func (h *health) probe(bg context.Context, client redis.UniversalClient, every time.Duration) {
	ctx, cancel := context.WithTimeout(bg, every)
	defer cancel()
	sent := time.Now()
	if err := client.Ping(ctx).Err(); bg.Err() == nil {
		h.note(err, sent)
	}
}

// note records the outcome of a call, sent at sent, whose caller's ctx was
// not done. An answer to a call sent before Redis was found down changes
// nothing but the READONLY it may carry.
func (h *health) note(err error, sent time.Time) {
	down := unreachable(err)
	h.mu.Lock()
	h.readOnly = h.readOnly || readOnly(err)
	if h.down && !down && sent.Before(h.since) {
		h.mu.Unlock()
		return
	}
	was := h.down
	h.down = down
	if was != down {
		h.changes++
		if down {
			h.since = time.Now()
		}
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
