package redisslot

import "sync/atomic"

// Stats is a snapshot of a Limiter's counts, as [Limiter.Stats] returns
// it. The counts are of this Limiter only, not of the cluster: for the
// holders of a key across all instances, see [Limiter.InUse].
//
// Each field is read atomically on its own, so a snapshot taken while the
// Limiter works may be a few events apart between fields (Acquired and
// Held, say); each field on its own is exact.
type Stats struct {
	// Held is the number of slots this Limiter holds: slots returned by
	// an acquiring call (counted when the call returns) whose end (the
	// caller's release, its ctx ending, a lost lease or Close) has not
	// yet happened.
	Held int

	// Waiting is the number of Acquire calls on this Limiter that wait
	// for a slot now.
	Waiting int

	// Acquired is the number of TryAcquire and Acquire calls that
	// returned a slot, since New.
	Acquired uint64

	// Full is the number of calls that returned ErrFull (and not
	// ErrQueueFull), since New.
	Full uint64

	// QueueFull is the number of calls that returned ErrQueueFull, since
	// New.
	QueueFull uint64

	// Canceled is the number of calls that returned without a slot
	// because their ctx was done, since New.
	Canceled uint64

	// Closed is the number of calls that returned ErrClosed, since New.
	Closed uint64

	// Errors is the number of calls that returned any other error (a Redis
	// error, a bad argument), since New.
	Errors uint64

	// LeasesLost is the number of slots whose lease was lost while held,
	// since New: their member vanished from Redis or no renewal was
	// confirmed for a whole Lease.
	LeasesLost uint64

	// PendingFrees is the number of slots this Limiter no longer holds
	// whose free it has not yet seen confirmed by Redis: released, lost or
	// closed slots whose member it still has to remove. Each is sent at
	// once and again with every renewal round, and forgotten once its
	// lease has surely ended.
	PendingFrees int

	// RenewalRounds is the number of renewal rounds that sent calls to
	// Redis, since New.
	RenewalRounds uint64

	// RenewalFailures is the number of renewal calls (one per key, or per
	// batch of a key's slots) that failed, since New; calls cut short by
	// Close are not counted.
	RenewalFailures uint64
}

// counters are the atomic counts behind Stats.
type counters struct {
	held, waiting                  atomic.Int64
	results                        [len(acquireResultNames)]atomic.Uint64 // by AcquireResult
	leasesLost                     atomic.Uint64
	renewalRounds, renewalFailures atomic.Uint64
}

func (c *counters) acquireEnded(r AcquireResult) {
	c.results[r].Add(1)
	if r == AcquireAcquired {
		c.held.Add(1)
	}
}

func (c *counters) slotEnded() { c.held.Add(-1) }

// Stats returns a snapshot of l's counts. It sends nothing to Redis and
// takes l's lock only for as long as it takes to count the pending frees;
// it is safe to call at any time, from any goroutine, hooks included, and
// after Close.
func (l *Limiter) Stats() Stats {
	c := &l.obs.stats
	pending := 0
	l.mu.Lock()
	for _, pk := range l.pending {
		pending += len(pk.members)
	}
	l.mu.Unlock()
	return Stats{
		Held:            int(max(c.held.Load(), 0)), // below 0 for a moment when Close ends a slot before its call returns
		Waiting:         int(c.waiting.Load()),
		Acquired:        c.results[AcquireAcquired].Load(),
		Full:            c.results[AcquireFull].Load(),
		QueueFull:       c.results[AcquireQueueFull].Load(),
		Canceled:        c.results[AcquireCanceled].Load(),
		Closed:          c.results[AcquireClosed].Load(),
		Errors:          c.results[AcquireError].Load(),
		LeasesLost:      c.leasesLost.Load(),
		PendingFrees:    pending,
		RenewalRounds:   c.renewalRounds.Load(),
		RenewalFailures: c.renewalFailures.Load(),
	}
}
