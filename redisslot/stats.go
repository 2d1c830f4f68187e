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

	// PendingFrees is the number of members this Limiter has to remove
	// from Redis and has not yet seen removed: released, lost or closed
	// slots, places in line of waiters that left, and acquires that failed
	// after they may have reached Redis. Each goes with the next acquire of
	// its key or is sent at once, and again with every renewal round, until
	// Redis confirms it; none is forgotten before.
	PendingFrees int

	// RenewalRounds is the number of renewal rounds that sent calls to
	// Redis, since New.
	RenewalRounds uint64

	// Degraded reports whether the Limiter serves the fallback shares now,
	// Redis being unreachable (see Options.Fallback).
	Degraded bool

	// FallbackAcquired is the number of slots handed out from the
	// fallback shares, since New: they count in Acquired too.
	FallbackAcquired uint64

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
	if r == AcquireAcquired || r == AcquireFallback {
		c.held.Add(1)
	}
}

func (c *counters) slotEnded() { c.held.Add(-1) }

// snapshot returns the counts, with pending frees pending.
func (c *counters) snapshot(pending int) Stats {
	return Stats{
		Held:            int(max(c.held.Load(), 0)), // below 0 for a moment when Close ends a slot before its call returns
		Waiting:         int(c.waiting.Load()),
		Acquired:        c.results[AcquireAcquired].Load() + c.results[AcquireFallback].Load(),
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
