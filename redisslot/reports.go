package redisslot

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
	"time"
)

// trouble gathers the background failures and lost leases of one renewal
// round, per key, and the failures of the pub/sub connection (subscribe,
// publish), which belong to no key, so that OnError hears at most once per
// key per round, with the counts; and of pub/sub at once, then at most once
// a round interval (an idle Limiter runs no round). Its mu guards its
// fields.
type trouble struct {
	mu       sync.Mutex
	byKey    map[string]*keyTrouble // by key as the caller named it
	order    []string               // keys in the order they first had trouble
	pubsub   int                    // pub/sub calls failed
	pubsubed error                  // the first of them
	pubsubAt time.Time              // when pub/sub's trouble was last reported
}

type keyTrouble struct {
	failures int
	first    error // the first failure
	lost     int
	lostWhy  string // why the first lost slot was lost
}

func (t *trouble) entry(key string) *keyTrouble {
	if t.byKey == nil {
		t.byKey = make(map[string]*keyTrouble)
	}
	kt := t.byKey[key]
	if kt == nil {
		kt = &keyTrouble{}
		t.byKey[key] = kt
		t.order = append(t.order, key)
	}
	return kt
}

func (t *trouble) failed(key string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kt := t.entry(key)
	kt.failures++
	kt.first = cmp.Or(kt.first, err)
}

func (t *trouble) lost(key, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kt := t.entry(key)
	kt.lost++
	kt.lostWhy = cmp.Or(kt.lostWhy, why)
}

// pubsubFailed notes a failed call on the pub/sub connection, and hands
// report pub/sub's trouble at once unless it did within every.
func (t *trouble) pubsubFailed(err error, every time.Duration, report func(error)) {
	t.mu.Lock()
	t.pubsub++
	t.pubsubed = cmp.Or(t.pubsubed, err)
	due := time.Since(t.pubsubAt) >= every
	t.mu.Unlock()
	if due {
		t.flushPubsub(report)
	}
}

// flushPubsub hands report pub/sub's trouble noted since its last report.
func (t *trouble) flushPubsub(report func(error)) {
	t.mu.Lock()
	n, first := t.pubsub, t.pubsubed
	t.pubsub, t.pubsubed = 0, nil
	if n > 0 {
		t.pubsubAt = time.Now()
	}
	t.mu.Unlock()
	if n > 0 {
		report(fmt.Errorf("redisslot: pub/sub: %d background calls failed, the first: %w", n, first))
	}
}

// flush hands report one error per key that had trouble since the last
// flush, and forgets them. A call that Close cut short is never noted (each
// noter checks first that the Limiter is not closing), so all that was
// noted is news, closing or not.
func (t *trouble) flush(report func(error)) {
	t.flushPubsub(report)
	t.mu.Lock()
	byKey, order := t.byKey, t.order
	t.byKey, t.order = nil, nil
	t.mu.Unlock()
	for _, key := range order {
		kt := byKey[key]
		var parts []error
		if kt.failures > 0 {
			parts = append(parts, fmt.Errorf("redisslot: key %s: %d background calls failed, the first: %w", quoteKey(key), kt.failures, kt.first))
		}
		if kt.lost > 0 {
			parts = append(parts, fmt.Errorf("redisslot: key %s: %d slots lost (the first %s): %w", quoteKey(key), kt.lost, kt.lostWhy, ErrLeaseLost))
		}
		report(errors.Join(parts...))
	}
}
