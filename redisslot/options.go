package redisslot

import (
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
)

// Defaults and bounds of the Options (see each field).
const (
	defaultPrefix         = "slots:"
	defaultLease          = 30 * time.Second
	defaultReleaseTimeout = 5 * time.Second
	minLease              = 100 * time.Millisecond // shorter is lost to a network hiccup or a GC pause
	minReleaseTimeout     = 100 * time.Millisecond // shorter, a free times out on a hiccup, round after round
	minMargin             = 50 * time.Millisecond  // the lease margin: Lease/20, at least this, at most Lease/6
	maxRetryInterval      = time.Second            // caps a key's oldest waiter's retry interval
	maxProbeInterval      = 100 * time.Millisecond // caps the PING interval while Redis is down
	// tombstoneLife, beyond one Lease, is how long Redis remembers a freed
	// unsure member: longer than Linux retransmits a written command
	// (tcp_retries2, about 15 minutes), so its acquire is refused however late.
	tombstoneLife = 15 * time.Minute
)

// Options configure a Limiter. The zero value is ready to use: every zero
// field means its default.
type Options struct {
	// Prefix is put before every key to name its slot set in Redis.
	// Default "slots:". Limiters share the slots of a key only when they
	// use the same Prefix and the same Redis. A Prefix holding "{" holds
	// the Redis Cluster hash tag of every key: they all share one hash
	// slot. New panics if its first "{" is followed by "}", an empty hash
	// tag, which Redis Cluster ignores.
	Prefix string

	// Lease is how long a slot outlives its holder's last renewal in
	// Redis: a slot whose holder crashed frees itself at most Lease after
	// it. The Limiter renews its slots every Lease/3. Default 30s; at least
	// 100ms (New panics below that); rounded up to whole milliseconds (down
	// within a millisecond of [math.MaxInt64], so that none overflows).
	//
	// A held slot whose lease is not confirmed in time ends (cause
	// ErrLeaseLost) a margin before Redis may give it away: Lease minus the
	// margin after the last acquire or renewal that Redis confirmed was
	// sent, by the local monotonic clock, on a timer that no Redis call can
	// hold up. The margin, Lease/20, at least 50ms and at most Lease/6 (1.5s
	// at the default Lease, 50ms at Lease 1s), covers a drift between the
	// local and Redis clocks (far below 1%), a timer late on a loaded
	// machine, and the holder's time to stop. A live holder keeps its slot
	// while Redis confirms each background call of its Limiter (renewals,
	// and the frees that a round may wait behind) within Lease/4; a round
	// is cut off at Lease/3, so that the next goes out in time. One that
	// missed a round survives if the next, with the frees it may wait
	// behind, is confirmed within Lease/6.
	//
	// A short Lease gives slots of crashed instances back sooner; a long
	// one rides out longer Redis pauses without cancelling live holders.
	Lease time.Duration

	// ReleaseTimeout bounds the calls that Close makes to free the slots
	// still held, and each background call that sends frees (bounded by
	// Lease/3 too). No release waits for it. Default 5s; at least 100ms (New
	// panics below that): a free that times out is sent again every round,
	// and its slot stays taken in Redis until one lands or its lease ends.
	ReleaseTimeout time.Duration

	// OnError receives the errors of background work: failed frees and
	// renewals, lost leases (wrapping ErrLeaseLost), failed pub/sub calls
	// (subscriptions, restart messages), the fallback state's start and
	// end; each key's trouble at most once per renewal round, with its
	// counts, as the round ends, and pub/sub's at once, then at most once a
	// round interval. A caller's failed call is not reported: the caller has
	// its error. When nil, errors are logged with log/slog's default logger.
	// It is called concurrently, must not block nor panic (it may run on
	// an acquiring call's goroutine), and must not call Close.
	OnError func(error)

	// MaxWaiters, when positive, caps how many Acquire calls may wait for
	// one key at a time across all instances: one more returns ErrQueueFull
	// at once. The script that joins the queue checks it against the
	// waiters there, so Limiters with different caps each apply their own.
	// Default 0: no cap.
	MaxWaiters int

	// MaxWaitersFor, when not nil, gives one key's cap: its result for
	// (key, limit), when positive, replaces MaxWaiters for that call. It is
	// called at most once per Acquire call, only by one that finds the key
	// full and is about to join its line (never by TryAcquire, by an Acquire
	// admitted at once, or again while a call waits or retries), with no
	// lock held, so it may be slow; it must be safe for concurrent use, and
	// must not call Close (Close waits for the call it runs in). Learning
	// that a call would join costs that call one more round trip.
	MaxWaitersFor func(key string, limit int) int

	// Fallback, when not nil, keeps the service going while Redis cannot
	// be reached (a network error, a timeout, Redis loading or a cluster
	// down; not an answer such as out of memory, a replica's READONLY or a
	// resharding's TRYAGAIN):
	// TryAcquire and Acquire then admit up to Fallback(key, limit) slots of
	// each key in this process alone, and beyond that refuse or queue as for
	// a full key (Acquire waits in a local line, in order, under the caps).
	// A typical share is the limit divided by the number of instances, at
	// least 1. At 0 or less the key has no fallback: its calls go to Redis
	// and return Redis's error, wrapped, naming the key. Fallback is called
	// with no lock held, by calls made while the state is on, maybe more
	// than once a call; it must be safe for concurrent use, and must not
	// call Close (Close waits for the call it runs in). If it panics, the
	// panic reaches the caller, which has left its line.
	//
	// The state begins at the first call of any kind that cannot reach Redis,
	// itself served from its key's share if it has one; the callers waiting
	// in a key's line in Redis here go to the share's line in their order.
	// While it lasts, acquiring calls of keys with a share do not wait on
	// Redis, and the Limiter pings Redis every 100ms. From Redis's first
	// answer to any call sent after the state began (at the latest, the next
	// renewal round; an answer to a call sent before it tells nothing of
	// Redis now) no fallback slot is granted: TryAcquire is refused and Acquire waits in the local
	// line. The renewal rounds write every live fallback slot into its key's
	// slot set, even above the limit; the state ends with the first round in
	// which all calls get through and Redis knows every fallback slot still
	// held. Those slots are then renewed and freed like any other, and the
	// local line goes back to Redis in its order, each caller joining the
	// key's line there once the one before it has (or the share's line, in
	// order, if the state is on again by then). While a key's line moves
	// either way, a new Acquire of the key waits behind it, and TryAcquire is
	// refused. A fallback slot released before a round offered it to Redis
	// leaves nothing to free. OnError hears when the state begins and
	// ends; Stats().Degraded tells whether it is on.
	//
	// On a Redis Cluster client, the state is the Limiter's, but only the
	// keys of a master out of reach are served from the share: one whose
	// last call failed unreachable and which then failed a check too, or
	// that the client cannot name. The check, an EXISTS of the call's key
	// sent to the master alone, is refused as the call was by a master that
	// is down, loading or in a cluster down, and answered by one whose call
	// failed elsewhere: sent on by an ASK or a MOVED to a node that does not
	// answer, as a resharding's target. Calls of one master share a check,
	// and one it answered stands for a second; the call that finds its
	// master out of reach waits for the check, up to a second and no longer
	// than its ctx. A key whose master answers goes to Redis, and its limit
	// holds, once Redis knows the key's fallback slots: until then, and
	// while callers wait in its share's line, the key stays with its share.
	// The keys of a master out of reach that the client can name are
	// granted fallback slots until that master answers, or the state ends:
	// another master's answer tells nothing of it.
	//
	// It risks this: while one instance cannot reach Redis, a key may have
	// up to its limit plus that instance's share of holders; while none
	// can, the sum of the shares, beside the holders from before the
	// outage until their leases end. Written above the limit, the fallback
	// slots keep Redis from admitting to the key until its holders are
	// below the limit again. Default nil: every call goes to Redis.
	Fallback func(key string, limit int) int
}

// settings are Options checked, with their defaults filled in, and the
// values derived from them.
type settings struct {
	Options                  // Lease in whole milliseconds
	names      names         // of Prefix
	leaseArg   any           // Lease in milliseconds, boxed once for the scripts
	life       time.Duration // a slot's life after its lease was set: Lease minus the margin
	renewEvery time.Duration // Lease/3
	retry      time.Duration // min(Lease/3, maxRetryInterval)
	probeEvery time.Duration // min(Lease/3, maxProbeInterval)
	tombArg    any           // a tombstone's life in milliseconds, boxed
}

// settings returns o's settings, or panics as New documents.
func (o Options) settings() settings {
	if o.Lease < 0 || (o.Lease > 0 && o.Lease < minLease) {
		panic(fmt.Sprintf("redisslot: Options.Lease %v is below the minimum %v", o.Lease, minLease))
	}
	if o.ReleaseTimeout < 0 || (o.ReleaseTimeout > 0 && o.ReleaseTimeout < minReleaseTimeout) {
		panic(fmt.Sprintf("redisslot: Options.ReleaseTimeout %v is below the minimum %v", o.ReleaseTimeout, minReleaseTimeout))
	}
	if o.MaxWaiters < 0 {
		panic(fmt.Sprintf("redisslot: negative Options.MaxWaiters %d", o.MaxWaiters))
	}
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if i := strings.IndexByte(o.Prefix, '{'); i >= 0 && strings.HasPrefix(o.Prefix[i+1:], "}") {
		panic(fmt.Sprintf("redisslot: Options.Prefix %q makes an empty Redis Cluster hash tag", o.Prefix))
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
	o.Lease = time.Duration(leaseMs) * time.Millisecond
	return settings{
		Options: o, names: names{o.Prefix}, leaseArg: leaseMs, life: o.Lease - margin(o.Lease),
		renewEvery: o.Lease / 3, retry: min(o.Lease/3, maxRetryInterval), probeEvery: min(o.Lease/3, maxProbeInterval),
		tombArg: (min(o.Lease, math.MaxInt64-tombstoneLife) + tombstoneLife).Milliseconds(),
	}
}

// margin returns how long before Redis may end a lease its slot ends here.
func margin(lease time.Duration) time.Duration {
	return min(max(lease/20, minMargin), lease/6)
}

// capFor returns the cap on the waiters of key for a caller passing limit.
func (s *settings) capFor(key string, limit int) int {
	if s.MaxWaitersFor != nil {
		if n := s.MaxWaitersFor(key, limit); n > 0 {
			return n
		}
	}
	return s.MaxWaiters
}
