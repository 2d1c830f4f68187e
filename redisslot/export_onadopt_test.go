package redisslot

// SetOnAdopt has hear called on l's renewer goroutine once per adopt call
// confirmed, after the lease clock counts its fallback slots known to
// Redis and before the fallback share counts them so.
func SetOnAdopt(l *Limiter, hear func()) { l.renewer.onAdopt.Store(&hear) }

// KnownToRedis returns how many of the slots l holds the lease clock counts
// as known to Redis (not fallback slots awaiting adoption).
func KnownToRedis(l *Limiter) int {
	n := 0
	l.clock.each(func(hk *heldKey) {
		for _, s := range hk.slots {
			if !s.fallback {
				n++
			}
		}
	})
	return n
}
