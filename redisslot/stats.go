package redisslot

import "sync/atomic"

// Stats is a snapshot of one Limiter's counts (for a key's holders on all
// instances, see [Limiter.InUse]). Each field is exact and read atomically
// on its own, so fields may be a few events apart (Acquired and Held, say).
type Stats struct {
	// Held is the slots held: returned by an acquiring call (counted when it
	// returns) and not yet ended by release, ctx, a lost lease or Close.
	Held int

	// Waiting is the Acquire calls on this Limiter waiting for a slot now.
	Waiting int

	// The TryAcquire and Acquire calls returned since New: Acquired with a
	// slot, Full with ErrFull (not ErrQueueFull), QueueFull with ErrQueueFull,
	// Canceled without a slot as ctx was done, Closed with ErrClosed, Errors
	// with any other error (from Redis, or a bad argument), or panicking (an
	// Options callback did).
	Acquired, Full, QueueFull, Canceled, Closed, Errors uint64

	// LeasesLost is the slots whose lease was lost while held, since New.
	LeasesLost uint64

	// PendingFrees is the members not yet seen removed from Redis (ended
	// slots, places of waiters that left, acquires that failed after they
	// may have reached Redis), each sent until Redis confirms it.
	PendingFrees int

	// RenewalRounds is the renewal rounds that sent renewals to Redis (see
	// Hook.RenewalRound), since New.
	RenewalRounds uint64

	// Degraded reports whether the fallback state (see Options.Fallback) is on.
	Degraded bool

	// FallbackAcquired is the slots from the fallback shares returned to
	// callers, since New: they count in Acquired too.
	FallbackAcquired uint64

	// RenewalFailures is the renewal calls that failed, since New, leaving
	// out those cut short by Close.
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
