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
// In the example of [Limiter.Acquire], refuse answers nothing if the client
// is gone, 429 to an error matching [slots.ErrFull] (a full key, a full
// line, or no slot within the wait), and 503 to any other. Package
// github.com/ctxguard/release/slots/slotshttp does the same as a middleware.
//
// Do the guarded work under the slot's context. A helper that returns only
// the release, such as acquireAccountSlot(...) (func(), status), drops it:
// when the slot's lease is lost, its caller's work goes on beside the
// holder Redis gave the slot to next, and the limit does not hold. Return
// the context with the release, as TryAcquire does.
//
// # Promises
//
//   - No key ever has more than limit live holders, on any instance:
//     admission is one Lua script on Redis's clock, and a held slot's
//     context ends a margin before Redis may give the slot away, by a timer
//     that no Redis call can hold up (see Options.Lease).
//   - A slot's context ends before its free is sent, and its release never
//     waits for Redis (see [Limiter.TryAcquire]).
//   - No ghost slot, however long Redis stalls: an acquire is sent once,
//     and the free of a slot some call may still add (an acquire or a
//     waiter's try whose reply was lost; a fallback slot, whose adoption
//     is sent each round until Redis confirms one) leaves a tombstone that
//     refuses that call, whichever of the two Redis runs first.
//   - One goroutine renews all of a Limiter's slots every Lease/3, in
//     batches (see [Limiter]). A slot whose member vanished from Redis is
//     lost at the next round or, after a restart, as soon as the Limiter
//     learns of it (see below).
//   - [Limiter.Acquire] waits in the key's one queue in Redis, shared by
//     every instance and served in order, woken by pub/sub without polling;
//     the waiters of a crashed instance stop holding it up within about a
//     second and a half.
//   - With Options.Fallback, a Limiter that cannot reach Redis serves a
//     share of each key on its own.
//
// # Key layout
//
// A key's slots are a sorted set at Prefix+"{"+key+"}" (Prefix defaults to
// "slots:"): one member per slot, its id unique to the acquire (the
// Limiter's random id, a dash, a counter, a slash and the caller's limit),
// scored by the end of its lease in Redis milliseconds. Beside it,
// "…:queue" holds the waiters by order of joining (Redis microseconds),
// "…:queue:until" by the end of their entries, and "…:gone" the tombstones
// (kept 15 minutes and a Lease); wake-ups go on the channel "…:wake". The
// braces, a Redis Cluster hash tag, put the four sets in one hash slot;
// each expires after its last use, the slots within two leases of it. Count holders and waiters with
// [Limiter.InUse] and [Limiter.Load], or look with
//
//	ZRANGE slots:{user:42} 0 -1 WITHSCORES
//	ZRANGE slots:{user:42}:queue 0 -1 WITHSCORES
//
// Versions before the queue kept a key's slots at Prefix+key: they must not
// share a Redis and Prefix with these.
//
// # When Redis fails
//
// Calls return Redis's errors wrapped with the operation and (a prefix of)
// the key; background failures go to Options.OnError. Out of memory
// (noeviction), new slots are refused with Redis's OOM error while held ones
// are renewed and freed; an evicting policy may drop a slot set with every
// lease of its key: use noeviction. A key's slot set overwritten from
// outside with another type costs its holders, fallback slots too, their
// slots at the next round; that, or its queue or tombstones overwritten,
// affects that key alone (its calls may fail with Redis's error). A restart
// without persistence forgets every slot, and until each instance looks for
// its lost slots, old and new holders together may exceed the limit. It
// looks once its pub/sub connection, which it keeps from its first slot on,
// comes back after the restart broke it, or first opens on the restarted
// Redis (on one node, where a slot it holds has no live lease, or it
// holds more than 64; on a Redis Cluster, or after a failed subscribe,
// always), or sooner: when Redis answers after one of its calls failed
// (then it probes every 100ms; on a Redis Cluster, when that master is
// back: see below), or when its call, or
// another Limiter's, is the first to find Redis's scripts gone (that Limiter
// tells the others, of every Prefix, on the pub/sub channel
// "redisslot:restarts": on a Redis Cluster the connection is on one node and
// so does not see the restart of another). A failover to a replica that
// missed the last writes forgets the slots they took, and an instance looks
// for them the same ways; or when its call, left on the demoted master, is
// answered READONLY and its next acquire is answered, or its round so
// answered is run again, 10ms apart, until one is answered or it has been
// sent over each connection its client had open (a READONLY answer is no
// outage: no fallback); or when the old master, now a replica, passes on
// the first instance's message. Two failovers are found only at the next
// round, Lease/3 later, by an instance none of whose calls is answered
// NOSCRIPT: one that moves open connections to the new master (a proxy that
// does so), which leaves their subscriptions behind; and one to a new master
// that has the scripts (it was master before), which sends no message, while
// the instance's connections stay on the old one. In those two, and when
// go-redis's own retry of a call answered READONLY reaches the new master,
// nothing tells of the failover. Whatever writes the new master missed, a
// key does not expire under the leases it has: every write that sets a
// lease keeps its key alive at least as long (a round extends every key it
// renews, to two leases). A lease whose last renewal the new master
// missed ends there up to a round (Lease/3) before its holder's clock
// ends it, unless the next round reaches the new master first, as it does
// when the instance can reach Redis. Run the slots' Redis with
// appendonly yes and appendfsync everysec where that matters.
//
// # Timeouts on request paths
//
// go-redis applies a ctx's deadline to socket reads and writes only with
// ContextTimeoutEnabled; otherwise ReadTimeout (3s) and MaxRetries (3)
// bound each call, whatever the ctx says. Even with it, a ctx cancelled (a
// client that hung up) does not cut a call short: the call ends with its
// reply or its read timeout. Either way, an acquire whose ctx ended returns
// ctx's error, not the timeout's. An acquire is sent once whatever
// MaxRetries says (it fails instead), as Redis may run a first copy late,
// after the free of the slot a retry took; the client's hooks see it as a
// [redis.Cmder] that embeds a *redis.Cmd, with NoRetry true. On request
// paths, make the client as the example of [Limiter.Acquire] does:
// ContextTimeoutEnabled, a second for DialTimeout, ReadTimeout and
// WriteTimeout, and MaxRetries 1.
//
// # Redis Cluster
//
// Each script touches the keys of one hash slot, all in KEYS. Under a
// Prefix with no "{", a key that begins with "}" is refused: its hash tag
// would be empty. Wake-ups use
// PUBLISH and SUBSCRIBE, which a cluster carries to every node. In a
// pipeline (renewals, Close, Load), a master that does not answer fails
// only the calls of its keys, and the holders of other masters' keys keep
// their leases: a round sends one pipeline per master, at once, and
// confirms each master's renewals as soon as that master has answered,
// not when the round's last call ends. The slots a master answers are gone
// end only as the round ends, though, and a round asked meanwhile (a
// restart heard of) waits for it: while another master does not answer,
// a holder that a restart of one master lost may live on for up to two
// thirds of a Lease. A master whose check failed (see
// Options.Fallback) is back when a call naming one of its keys, sent after
// that check failed, is answered, or when the client's view names another
// master for its keys (a failover): only then does the Limiter look for the slots a restart
// or a failover of it may have lost. What other masters answer meanwhile,
// or a master whose call failed elsewhere, changes nothing of it. The
// frees of releases go to each master on their own: while one master does not
// answer, only the frees of its keys wait, each call up to
// min(ReleaseTimeout, Lease/3); neither renewal rounds nor other masters
// hold them up. A call answered NOSCRIPT (a script cache emptied, or a
// node new to the cluster) is sent again as EVAL, to the node that runs
// it, which then keeps the script. While a resharding moves a key's hash
// slot, Redis may answer its calls TRYAGAIN: its acquires return that
// error, and its leases are kept, or lost, as in a stall. A free so
// answered frees its slots at once, by a call naming the slot set alone;
// the rest of it (places in line, tombstones, the wake-up of waiters, who
// then try on their own within a second) is sent again each round until
// the move ends. That answer is no outage: no fallback share is served for
// it.
//
// # Observing a Limiter
//
// See [Limiter.Stats] and [Limiter.AddHook]; the module
// github.com/ctxguard/release/redisslot/redisslototel turns hooks into
// OpenTelemetry instruments. redisslot depends on no metrics library.
package redisslot
