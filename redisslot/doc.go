// Package redisslot limits how many holders a key has at once across every
// instance of a service, with the slots kept in Redis, and hands out each
// slot with a release guard: a release that frees the slot exactly once, on
// its first call, when the client hangs up, when the slot's lease is lost,
// or when the Limiter closes, whichever comes first.
//
// A gateway that caps concurrent requests per user and per account, across
// all its instances, takes both slots, waiting at most 2s for the user's
// ([slots.AcquireWithin]: the wait bounds only the wait, not the slot), and
// defers both releases:
//
//	func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		user, releaseUser, err := slots.AcquireWithin(r.Context(), s.slots, "user:"+userID(r), 4, 2*time.Second)
//		if err != nil {
//			refuse(w, r, err)
//			return
//		}
//		defer releaseUser()
//		ctx, releaseAccount, err := s.slots.TryAcquire(user, "account:"+accountID(r), 100)
//		if err != nil {
//			refuse(w, r, err)
//			return
//		}
//		defer releaseAccount()
//		s.serve(ctx, w, r) // ctx ends when either slot is lost or the client hangs up
//	}
//
//	// refuse answers a request that got no slot.
//	func refuse(w http.ResponseWriter, r *http.Request, err error) {
//		switch {
//		case r.Context().Err() != nil: // the client is gone: nobody to answer
//		case errors.Is(err, slots.ErrFull): // full, its line full, or no slot within the wait
//			http.Error(w, "busy", http.StatusTooManyRequests)
//		default: // ErrClosed, or a Redis error
//			http.Error(w, "unavailable", http.StatusServiceUnavailable)
//		}
//	}
//
// Package github.com/ctxguard/release/slots/slotshttp does the same as a
// middleware.
//
// # Promises
//
//   - Admission is one Lua script, run atomically by Redis: it counts the
//     members whose lease has not ended and adds one. It reads Redis's
//     clock, so the clocks of the instances do not matter. No key ever has
//     more than limit live holders, on any instance: a held slot's context
//     ends, by the Limiter's lease clock, a margin (Lease/20, at least 50ms
//     and at most Lease/6) before Redis may end its lease and admit someone
//     else, counted from when the last acquire or renewal that Redis
//     confirmed was sent. One timer per Limiter keeps those deadlines, apart
//     from every Redis call, so an instance cut off from Redis ends its
//     slots in time however long its calls block.
//   - A held slot's context is done when the caller's ctx is done, when
//     release is called, when the lease is lost ([ErrLeaseLost]) or when the
//     Limiter closes ([ErrClosed]), and before the call that frees the slot
//     is sent. Its release is a guard built with
//     [github.com/ctxguard/release.WrapOnDone], so it runs once. It does not
//     wait for Redis: it hands the slot's member to the Limiter, which sends
//     the free at once (batched per key, pipelined) and keeps it until Redis
//     confirms it or the member's lease has surely ended, sending it again
//     with every renewal round. So a release returns at once even with Redis
//     stalled, and [Limiter.InUse] may count a released slot until its free
//     arrives. An acquire that failed after its command may have reached
//     Redis has its member freed the same way, and that free leaves a
//     tombstone that the acquire script checks, so a stall of any length
//     leaves no ghost slot, whichever of the two Redis runs first. A
//     pending free is forgotten only when Redis confirms it. An acquire
//     carries the Limiter's pending frees of its key and removes them
//     first, so a release followed at once by an acquire of the same key is
//     not refused for want of its own free.
//   - One goroutine per Limiter renews every slot it holds, every Lease/3,
//     and sends the frees; it runs while slots are held or frees pending.
//     With a single-node or failover client one script call renews up to
//     500 slots of any keys; with a Redis Cluster client, of the keys of one
//     hash slot; with any other client, of one key; all calls of a round go
//     in one pipeline. A held slot costs no goroutine, and neither does a
//     release or a failed call. Renewal never re-creates a member, and a key
//     that is no slot set any more (overwritten, deleted) is a lost lease at
//     the next round. When Redis answers again after a failure (the
//     Limiter probes it every 100ms while it does not), a round runs at
//     once: after a restart that lost the slots, their holders end within a
//     round trip of the Limiter's first call that reaches it.
//   - A slot of a crashed instance frees itself when its lease ends. No
//     script removes another instance's live member.
//   - [Limiter.Acquire] waits in the key's one queue, kept in Redis and
//     shared by every instance: a caller that finds the key full joins its
//     back in the same script, a freed slot goes to the oldest waiter
//     cluster-wide, and [Limiter.TryAcquire] never takes a slot while the
//     key has waiters. Options.MaxWaiters and Options.MaxWaitersFor cap the
//     waiters of a key across all instances ([ErrQueueFull]).
//   - Waiting costs no polling: the release script publishes a wake-up on
//     the key's channel in the same call, naming the waiters that may take
//     a slot now; each Limiter listens on one pub/sub connection, and wakes
//     those of them that wait on it. The oldest waiter of each key on a
//     Limiter also
//     retries after at most min(Lease/3, 1s), so a lost wake-up costs at
//     most that.
//   - A waiter's entry in the queue ends about a second after its last
//     renewal (every 300 ms, one call per key): the waiters of a crashed
//     instance stop holding up the queue within about a second and a half,
//     whatever the Lease. A waiter whose ctx ends leaves in one round trip.
//
// # Key layout
//
// A key's slots are one sorted set at Prefix+"{"+key+"}" (Prefix defaults
// to "slots:"): one member per held slot, named by an id unique to that
// acquire (the Limiter's random instance id, a dash, a counter, a slash and
// the limit its caller passed), with score the end of its lease in Redis
// milliseconds (TIME). Its queue is two sorted sets beside it:
// Prefix+"{"+key+"}:queue", the waiters' member ids scored by their order
// of joining (Redis microseconds, strictly increasing), and
// Prefix+"{"+key+"}:queue:until", the same ids scored by the end of their
// entries in Redis milliseconds. Prefix+"{"+key+"}:gone" holds the
// tombstones of members freed while their acquire may not have run yet,
// scored by when they may be forgotten (15 minutes and a Lease later). The
// braces are a Redis Cluster hash tag that keeps the four in one hash
// slot. Each set expires with its last lease, entry or tombstone, and an
// empty set is deleted by Redis, so no key outlives its last use. Operators
// can look at them with
//
//	ZRANGE slots:{user:42} 0 -1 WITHSCORES
//	ZRANGE slots:{user:42}:queue 0 -1 WITHSCORES
//
// and count the live holders and waiters with [Limiter.InUse] and
// [Limiter.Load]. Wake-ups are published on the channel
// Prefix+"{"+key+"}:wake", naming (space-separated member ids) the
// waiters that may take a slot, only while the key has waiters.
//
// Limiters of versions before the queue kept a key's slots at Prefix+key:
// they must not share a Redis and Prefix with these, or each would admit
// up to the limit on its own.
//
// # When Redis is down, or a lease is lost
//
// Calls return Redis's errors, wrapped with the operation and (a prefix of)
// the key, so that [errors.Is] and [errors.As] see them. Frees and
// renewals that fail are retried with the renewal rounds and go to
// Options.OnError at most once per key per round, with their count. A held
// slot whose lease Redis did not confirm in time (see Options.Lease) is
// lost: its context is cancelled with [ErrLeaseLost], a margin before Redis
// may give the slot to someone else. So is a slot whose member a renewal
// finds missing, deleted from outside or lost when Redis restarted without
// persistence: after a restart, as soon as Redis answers the Limiter; after
// a DEL or an overwrite, which cause no failure, at the next round. Stop
// the work a lost slot guards: watch its context.
//
// A restart without persistence loses every slot at once, and instances
// admit new holders as soon as it answers. An instance's old holders end
// within a round trip of its first call that reaches the restarted Redis:
// a caller's call (tens of milliseconds under load), a probe (every 100ms
// once a call has failed), or at the latest its next renewal round, Lease/3
// after the last. Until then old and new holders together may exceed the
// limit. Run the slots' Redis with persistence (appendonly yes,
// appendfsync everysec) where that matters, and with maxmemory-policy
// noeviction.
//
// Out of memory (maxmemory with the noeviction policy), Redis refuses new
// slots: Acquire and TryAcquire return its OOM error, wrapped (an Acquire
// that waits, at its next try, and its place in line is freed). Held slots
// are still renewed, and frees, InUse and Load still work. An evicting policy
// (allkeys-*, volatile-*: slot sets always have a TTL) may drop a slot set
// and with it every lease of the key: use noeviction for the slots' Redis.
//
// # Choosing Lease
//
// Lease (default 30s) is how long a slot outlives its holder's last
// renewal. A short lease returns the slots of crashed instances sooner; a
// long one rides out longer Redis pauses, failovers and network trouble
// without cancelling live holders. Renewals run every Lease/3, so a live
// holder survives one missed round.
//
// # Timeouts on request paths
//
// go-redis applies a ctx's deadline to its socket reads and writes only when
// the client is made with ContextTimeoutEnabled; otherwise its ReadTimeout
// (3s by default) and MaxRetries (3) bound each call, whatever the ctx says.
// Waiting in Acquire always stops as soon as ctx is done, but a Redis call
// already sent follows the client's rules. For request paths:
//
//	client := redis.NewClient(&redis.Options{
//		Addr:                  "redis:6379",
//		ContextTimeoutEnabled: true, // every call ends with its ctx
//		DialTimeout:           time.Second,
//		ReadTimeout:           time.Second,
//		WriteTimeout:          time.Second,
//		MaxRetries:            1,
//	})
//
// The background frees are bounded by Options.ReleaseTimeout and Lease/3,
// those of Close by ReleaseTimeout, and the renewal rounds by Lease/3,
// through the same mechanism.
//
// # Redis Cluster
//
// Each script touches only keys of one hash slot, all named in KEYS: the
// key's slot set and its queue, which share the key's hash tag. So every
// call goes to the node that owns that key; pipelines of several keys (the
// renewals, Close, [Limiter.Load]) are split by go-redis, one round trip
// per node. A key that begins with "}" is refused: its hash tag would be
// empty. Wake-ups use plain PUBLISH and SUBSCRIBE, which a cluster carries
// to every node, so one pub/sub connection per Limiter hears them all.
//
// # Observing a Limiter
//
// [Limiter.Stats] is a snapshot of one Limiter's counts: slots held,
// waiters, calls by result, leases lost, pending frees, renewal rounds and
// failures. [Limiter.AddHook] adds a [Hook] that hears how each acquiring
// call ended, how and when each slot ended (released, its ctx ended, lease
// lost, closed), lost leases, waiters joining and leaving, and renewal
// rounds; with no hook these cost an atomic load each. The module
// github.com/ctxguard/release/redisslot/redisslototel turns the hooks into
// OpenTelemetry instruments; redisslot itself depends on no metrics
// library.
package redisslot
