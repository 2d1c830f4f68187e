package redisslot

// TellerIdle reports whether no restart message of l is in flight.
func TellerIdle(l *Limiter) bool { return !l.renewer.tell.inFlight.Load() }
