package redisslot

import "time"

// LeaseConfirmedAt returns when the last acquire or renewal of l's slots of
// key that Redis confirmed was sent, the latest over those slots, as l's
// lease clock records it (holding.set); zero if l holds no slot of key.
func LeaseConfirmedAt(l *Limiter, key string) time.Time {
	c := l.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	var at time.Time
	if hk := c.held[l.set.names.slotKey(key)]; hk != nil {
		for _, s := range hk.slots {
			if s.set.After(at) {
				at = s.set
			}
		}
	}
	return at
}
