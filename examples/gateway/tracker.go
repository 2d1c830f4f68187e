package main

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// A tracker watches, across every gateway instance of the process, how many
// hold each key at once, from the holders' side: a slot counts from the
// moment its acquire returns until its context is done. A Limiter ends a
// slot's context before it frees the slot (redisslot: as long as the slot's
// lease is renewed), so a count above the limit means the Limiter let more
// holders in than the limit, and never comes from a slot freed a moment
// ago. It is safe for concurrent use.
type tracker struct {
	mu   sync.Mutex
	keys map[string]*keyTrack
}

type keyTrack struct {
	limit int
	most  int               // most holders seen at once
	live  []context.Context // holders' slot contexts, some perhaps done
}

func newTracker() *tracker {
	return &tracker{keys: make(map[string]*keyTrack)}
}

// held records a new holder of key, whose slot's context is slot.
func (t *tracker) held(key string, limit int, slot context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kt := t.keys[key]
	if kt == nil {
		kt = &keyTrack{limit: limit}
		t.keys[key] = kt
	}
	live := kt.live[:0]
	for _, c := range kt.live {
		if c.Err() == nil {
			live = append(live, c)
		}
	}
	clear(kt.live[len(live):]) // keep no done context reachable
	kt.live = append(live, slot)
	kt.most = max(kt.most, len(kt.live))
}

// A peak is the most holders a key had at once, against its limit.
type peak struct {
	key         string
	limit, most int
}

// peaks returns every key's peak, in key order.
func (t *tracker) peaks() []peak {
	t.mu.Lock()
	defer t.mu.Unlock()
	ps := make([]peak, 0, len(t.keys))
	for k, kt := range t.keys {
		ps = append(ps, peak{key: k, limit: kt.limit, most: kt.most})
	}
	slices.SortFunc(ps, func(a, b peak) int { return strings.Compare(a.key, b.key) })
	return ps
}
