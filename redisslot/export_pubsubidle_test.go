package redisslot

// PubSubFailuresNoted returns how many failed pub/sub calls l has noted
// for its next report and not reported yet.
func PubSubFailuresNoted(l *Limiter) int {
	l.trouble.mu.Lock()
	defer l.trouble.mu.Unlock()
	return l.trouble.pubsub
}

// RenewerRunning reports whether l's renewer goroutine runs.
func RenewerRunning(l *Limiter) bool {
	l.renewer.mu.Lock()
	defer l.renewer.mu.Unlock()
	return l.renewer.running
}

// RoundsAsked returns how many rounds l's renewer was asked to run at once.
func RoundsAsked(l *Limiter) uint64 { return l.asks.count() }
