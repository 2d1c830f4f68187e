package redisslot

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults of the Options fields left zero.
const (
	defaultPrefix         = "slots:"
	defaultLease          = 30 * time.Second
	defaultReleaseTimeout = 5 * time.Second
)

// minLease is the shortest Lease that New accepts: a shorter one would be
// lost to an ordinary network hiccup or garbage-collection pause.
const minLease = 100 * time.Millisecond

// maxRetryInterval caps the interval at which the oldest local waiter of a
// key retries on its own, whatever the Lease.
const maxRetryInterval = time.Second

// maxProbeInterval caps the interval at which a Limiter that cannot reach
// Redis asks it whether it answers again: a PING, cheap enough to send
// often, so that slots that Redis lost in a restart end soon after it
// answers, however idle the Limiter.
const maxProbeInterval = 100 * time.Millisecond

// The lease margin is Lease/20, at least minMargin, and at most Lease/6.
const minMargin = 50 * time.Millisecond

// tombstoneLife is how long Redis remembers that the member of an acquire
// that may have reached it was freed, beyond one Lease: longer than Linux
// keeps retransmitting a command written to a connection (tcp_retries2,
// about 15 minutes), so that such an acquire, however late it runs, is
// refused.
const tombstoneLife = 15 * time.Minute

// Options configure a Limiter. The zero value is ready to use: every zero
// field means its default.
type Options struct {
	// Prefix is put before every key to name its slot set in Redis.
	// Default "slots:". Limiters share the slots of a key only when they
	// use the same Prefix and the same Redis.
	Prefix string

	// Lease is how long a slot outlives its holder's last renewal in
	// Redis: a slot whose holder crashed frees itself at most Lease after
	// its last renewal. The Limiter renews the leases of its slots every
	// Lease/3, in the background. Default 30s; at least 100ms (New panics
	// below that). It is rounded up to whole milliseconds, except within a
	// millisecond of the largest Duration, where it is rounded down: any
	// Lease up to [math.MaxInt64] is accepted, and none overflows.
	//
	// A held slot whose lease is not confirmed in time ends (its context
	// is cancelled with ErrLeaseLost) a margin before Redis may give it to
	// someone else: at the latest Lease minus the margin after the last
	// acquire or renewal that Redis confirmed was sent, by the local
	// monotonic clock, on a timer of its own that no Redis call can hold
	// up. The margin is Lease/20, at least 50ms and at most Lease/6 (1.5s
	// at the default Lease, 50ms at Lease 1s): it covers a drift between
	// the rates of the local and Redis clocks (far below 1%), a timer that
	// fires late on a loaded machine (tens of milliseconds), and the
	// holder's time to stop. Being at most Lease/6, it leaves a live holder
	// whose renewals are each confirmed within half a Lease of their
	// sending its slot, and one that missed a round survives when the next
	// is confirmed within Lease/6.
	//
	// A short Lease gives slots of crashed instances back sooner; a long
	// one rides out longer Redis pauses and network trouble without
	// cancelling the work of live holders.
	Lease time.Duration

	// ReleaseTimeout bounds the calls that Close makes to free the slots
	// still held, and each background call that sends frees (which is also
	// bounded by Lease/3, so that renewals keep their rhythm). No release
	// waits for it. Default 5s.
	ReleaseTimeout time.Duration

	// OnError receives the errors of background work: failed frees,
	// failed renewals, lost leases, a failed subscription for wake-ups.
	// Frees, renewals and lost leases are reported at most once per key
	// per renewal round, with their counts (an error that wraps
	// ErrLeaseLost when slots were lost); a failed call of a caller is not
	// reported, since the caller has its error. When nil, they are logged
	// with log/slog's default logger. It is called concurrently from
	// several goroutines; it must not block, and must not call Close.
	OnError func(error)

	// MaxWaiters, when positive, caps how many Acquire calls may wait for
	// one key at a time across all instances (every Limiter on the same
	// Redis and Prefix): one more returns ErrQueueFull, which also matches
	// ErrFull, at once. The cap is checked by the script that joins the
	// queue, against the waiters there now, so Limiters with different caps
	// each apply their own. Default 0: no cap.
	MaxWaiters int

	// MaxWaitersFor, when not nil, gives the cap of one key: its result for
	// (key, limit), when positive, replaces MaxWaiters for that call; 0 or
	// less falls back to MaxWaiters. It is called only by an Acquire call
	// that is about to join the key's queue (not by TryAcquire, not by an
	// Acquire admitted at once, and not again while that call waits),
	// without any lock held, so it may be slow; it must be safe for
	// concurrent use. A gateway caps users at their limit plus 20 and
	// accounts at a number of their own. In redisslot, learning that a
	// call would join costs that call one more round trip to Redis.
	MaxWaitersFor func(key string, limit int) int

	// Fallback, when not nil, keeps the service going while Redis cannot
	// be reached (a network error, a timeout, Redis loading or a cluster
	// that is down; not an answer such as out of memory): TryAcquire and
	// Acquire then admit up to Fallback(key, limit) slots of each key in
	// this process alone, without Redis, and refuse or queue beyond that,
	// as for a full key (TryAcquire returns ErrFull; Acquire waits in a
	// local line, in order, under MaxWaiters and MaxWaitersFor). A typical
	// share is the limit divided by the number of instances, at least 1. A
	// result of 0 or less admits nothing: the call returns Redis's error.
	//
	// The state begins at the first call of any kind that cannot reach
	// Redis, and that call is itself served from the share; while it
	// lasts, acquiring calls do not wait on Redis. The Limiter asks Redis
	// every 100ms whether it answers; when it does, the first renewal round
	// writes every live fallback slot into its key's slot set, even above
	// the limit, so that new admissions count it, and the state ends: the
	// slots are then renewed and freed like any other, and the local line
	// goes back to Redis. OnError hears once when the state begins and once
	// when it ends; Stats().Degraded tells whether it is on.
	//
	// What it risks: while one instance cannot reach Redis, a key may have
	// up to its limit plus that instance's share of holders; while none
	// can, the sum of the instances' shares. Default nil: no fallback, and
	// every acquiring call goes to Redis.
	Fallback func(key string, limit int) int
}

// settings are Options checked, with their defaults filled in and the
// durations derived from them.
type settings struct {
	names          names
	lease          time.Duration // whole milliseconds
	leaseArg       any           // lease in milliseconds, boxed once for the scripts
	life           time.Duration // a slot's life after its lease was set: lease minus the margin
	renewEvery     time.Duration // lease/3
	retry          time.Duration // min(lease/3, maxRetryInterval)
	probeEvery     time.Duration // min(lease/3, maxProbeInterval)
	releaseTimeout time.Duration
	tombArg        any // how long a tombstone lasts, in milliseconds, boxed
	maxWaiters     int
	maxWaitersFor  func(key string, limit int) int
	fallback       func(key string, limit int) int
	onError        func(error)
}

// check panics, with a message starting "redisslot:", on a negative
// duration or cap, or a Lease below minLease.
func (o *Options) check() {
	if o.Lease < 0 || (o.Lease > 0 && o.Lease < minLease) {
		panic(fmt.Sprintf("redisslot: Options.Lease %v is below the minimum %v", o.Lease, minLease))
	}
	if o.ReleaseTimeout < 0 {
		panic(fmt.Sprintf("redisslot: negative Options.ReleaseTimeout %v", o.ReleaseTimeout))
	}
	if o.MaxWaiters < 0 {
		panic(fmt.Sprintf("redisslot: negative Options.MaxWaiters %d", o.MaxWaiters))
	}
}

// settings returns o, checked, as settings with the defaults filled in.
func (o Options) settings() settings {
	o.check()
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if o.Lease == 0 {
		o.Lease = defaultLease
	}
	if o.ReleaseTimeout == 0 {
		o.ReleaseTimeout = defaultReleaseTimeout
	}
	if o.OnError == nil {
		o.OnError = func(err error) { slog.Error("redisslot: background error", "err", err) }
	}
	leaseMs := o.Lease.Milliseconds()
	if o.Lease%time.Millisecond != 0 && leaseMs < math.MaxInt64/int64(time.Millisecond) {
		leaseMs++
	}
	lease := time.Duration(leaseMs) * time.Millisecond
	return settings{
		names:          names{o.Prefix},
		lease:          lease,
		leaseArg:       leaseMs,
		life:           lease - margin(lease),
		renewEvery:     lease / 3,
		retry:          min(lease/3, maxRetryInterval),
		probeEvery:     min(lease/3, maxProbeInterval),
		releaseTimeout: o.ReleaseTimeout,
		tombArg:        (min(lease, math.MaxInt64-tombstoneLife) + tombstoneLife).Milliseconds(),
		maxWaiters:     o.MaxWaiters,
		maxWaitersFor:  o.MaxWaitersFor,
		fallback:       o.Fallback,
		onError:        o.OnError,
	}
}

// margin returns how long before Redis may end a lease its slot ends here:
// Lease/20, at least minMargin, at most Lease/6.
func margin(lease time.Duration) time.Duration {
	return min(max(lease/20, minMargin), lease/6)
}

// capFor returns the cap on the waiters of key for a caller passing limit:
// MaxWaitersFor's result when positive, else MaxWaiters; 0 for none.
func (s *settings) capFor(key string, limit int) int {
	if s.maxWaitersFor != nil {
		if n := s.maxWaitersFor(key, limit); n > 0 {
			return n
		}
	}
	return s.maxWaiters
}
