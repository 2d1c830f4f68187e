package redisslot

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
)

// trouble gathers the background failures and lost leases of one renewal
// round, per key, and the failures of the pub/sub connection (subscribe,
// publish), which belong to no key, so that OnError hears at most once per
// key and once for pub/sub per round, with the counts. Its mu guards its
// fields.
type trouble struct {
	mu       sync.Mutex
	byKey    map[string]*keyTrouble // by key as the caller named it
	order    []string               // keys in the order they first had trouble
	pubsub   int                    // pub/sub calls failed
	pubsubed error                  // the first of them
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

// pubsubFailed notes a failed call on the pub/sub connection.
func (t *trouble) pubsubFailed(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pubsub++
	t.pubsubed = cmp.Or(t.pubsubed, err)
}

// flush hands report one error per key that had trouble since the last
// flush, and forgets them. A call that Close cut short is never noted (each
// noter checks first that the Limiter is not closing), so all that was
// noted is news, closing or not.
func (t *trouble) flush(report func(error)) {
	t.mu.Lock()
	byKey, order, pubsub, pubsubed := t.byKey, t.order, t.pubsub, t.pubsubed
	t.byKey, t.order, t.pubsub, t.pubsubed = nil, nil, 0, nil
	t.mu.Unlock()
	if pubsub > 0 {
		report(fmt.Errorf("redisslot: pub/sub: %d background calls failed, the first: %w", pubsub, pubsubed))
	}
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
