package redisslot

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Hooks for the tests of this directory. They are compiled into test
// binaries only.

// RetryInterval returns the bound on how long the oldest waiter of a key on
// l waits before trying again on its own: min(Lease/3, 1s).
func RetryInterval(l *Limiter) time.Duration { return l.set.retry }

// RenewEvery returns the interval between renewal rounds: Lease/3.
func RenewEvery(l *Limiter) time.Duration { return l.set.renewEvery }

// ProbeEvery returns the interval between pings while Redis is down:
// min(Lease/3, 100ms).
func ProbeEvery(l *Limiter) time.Duration { return l.set.probeEvery }

// Life returns how long after the last confirmed acquire or renewal of a
// slot was sent its context ends: Lease minus the margin.
func Life(l *Limiter) time.Duration { return l.set.life }

// Margin returns the lease margin of a Lease.
func Margin(lease time.Duration) time.Duration { return margin(lease) }

// SetDropWake makes l's subscriber drop each wake-up message for which drop
// returns true, as if pub/sub had lost it. drop runs on the subscriber's
// goroutine; nil stops dropping.
func SetDropWake(l *Limiter, drop func(channel string) bool) {
	if drop == nil {
		l.waiting.dropWake.Store(nil)
		return
	}
	l.waiting.dropWake.Store(&drop)
}

// RenewNow runs one renewal round on the calling goroutine, in turn with
// the renewer's rounds, and reports its trouble to OnError.
func RenewNow(l *Limiter) {
	l.renewer.round()
	l.renewer.flush()
}

// Waiters returns how many Acquire calls on l wait for key.
func Waiters(l *Limiter, key string) int {
	l.waiting.mu.Lock()
	defer l.waiting.mu.Unlock()
	if q := l.waiting.queues[l.set.names.slotKey(key)]; q != nil {
		return q.waiters.Len()
	}
	return 0
}

// HandsOff reports whether a release of key here would now hand its free
// to the oldest local waiter (see waiting.handOff): that waiter is known to
// be first in line, with no wake-up due.
func HandsOff(l *Limiter, key string) bool {
	l.waiting.mu.Lock()
	defer l.waiting.mu.Unlock()
	q := l.waiting.queues[l.set.names.slotKey(key)]
	if q == nil {
		return false
	}
	wt := q.waiters.Front().Value.(*waiter)
	return wt.head && !wt.woken
}

// Held returns how many slots l holds, on all keys.
func Held(l *Limiter) int { return l.clock.len() }

// SetOnWake makes l's subscriber call hear after each wake-up message it
// handled, with the number of waiters it woke. hear runs on the
// subscriber's goroutine; nil stops it.
func SetOnWake(l *Limiter, hear func(channel string, woken int)) {
	if hear == nil {
		l.waiting.onWake.Store(nil)
		return
	}
	l.waiting.onWake.Store(&hear)
}

// SetOnArm makes l's waiters call hear with the delay of every retry timer
// they arm. hear runs on the waiting goroutine.
func SetOnArm(l *Limiter, hear func(time.Duration)) { l.waiting.onArm.Store(&hear) }

// RetryDelay returns a delay for a retry timer of the given interval: a
// random time in its upper half.
func RetryDelay(interval time.Duration) time.Duration { return retryDelay(interval) }

// SlotKey returns the Redis key of key's slot set on l.
func SlotKey(l *Limiter, key string) string { return l.set.names.slotKey(key) }

// QueueKeys returns the Redis keys of key's queue on l: by order of
// joining, and by end of entry.
func QueueKeys(l *Limiter, key string) (order, until string) {
	ref := l.set.names.ref(key)
	return ref.names[1], ref.names[2]
}

// TombstoneKey returns the Redis key of key's tombstones on l.
func TombstoneKey(l *Limiter, key string) string {
	return l.set.names.ref(key).names[3]
}

// EntryTTL and EntryRenewEvery are the life of a waiter's entry and the
// interval of their renewals.
const (
	EntryTTL        = entryTTL
	EntryRenewEvery = entryRenewEvery
)

// WakeChannel returns the pub/sub channel of key's wake-ups on l.
func WakeChannel(l *Limiter, key string) string { return wakeChannel(l.set.names.slotKey(key)) }

// BatchSize is the most members passed to one renewal or free call, and
// MaxCarried the most pending frees an acquire carries.
const (
	BatchSize  = batchSize
	MaxCarried = maxCarried
)

// SetRetryInterval replaces l's retry interval. Call it before l's first
// Acquire.
func SetRetryInterval(l *Limiter, d time.Duration) { l.set.retry = d }

// Script hashes, for hooks that pick out the calls of one script.
var (
	AcquireHash      = acquireScript.Hash()
	RenewHash        = renewScript.Hash()
	ReleaseHash      = freeScript.Hash()
	InUseHash        = inUseScript.Hash()
	LoadHash         = loadScript.Hash()
	RenewWaitersHash = renewWaitersScript.Hash()
)

// LoadScripts loads every script into c's Redis (SCRIPT LOAD), so that
// command counts do not include a first EVALSHA answered NOSCRIPT and the
// EVAL that follows it.
func LoadScripts(ctx context.Context, c redis.Scripter) error {
	for _, s := range []*redis.Script{acquireScript, renewScript, freeScript, inUseScript, loadScript, renewWaitersScript} {
		if err := s.Load(ctx, c).Err(); err != nil {
			return err
		}
	}
	return nil
}

// HashSlot returns the Redis Cluster hash slot of key, as the renewer
// computes it.
func HashSlot(key string) int { return hashSlot(key) }

// FreesInFlight returns how many of l's pending frees a call carries now.
func FreesInFlight(l *Limiter) int {
	l.frees.mu.Lock()
	defer l.frees.mu.Unlock()
	n := 0
	for _, pk := range l.frees.byKey {
		for _, p := range pk.members {
			if p.inFlight {
				n++
			}
		}
	}
	return n
}

// FallbackHeld returns how many fallback slots of key l holds that Redis
// does not know yet.
func FallbackHeld(l *Limiter, key string) int {
	l.fb.mu.Lock()
	defer l.fb.mu.Unlock()
	if sk := l.fb.keys[key]; sk != nil {
		return sk.held
	}
	return 0
}

// RoundSoon has l's renewer run a round at once on its own goroutine, as
// an answer after an outage does.
func RoundSoon(l *Limiter) { l.renewer.roundNow() }

// ReadOnlyReruns returns how many times l runs a round answered READONLY
// again, in the run of such answers under way: 0 before its first.
func ReadOnlyReruns(l *Limiter) int64 { return l.renewer.readOnly.budget.Load() }

// RenewRound runs one renewal round on the calling goroutine, in turn with
// the renewer's rounds, and leaves its trouble for the next report.
func RenewRound(l *Limiter) { l.renewer.round() }

// BeginRelease does the first step of a release of each slot l holds of
// key: the lease clock lets go of it. The rest of each release is left
// undone, as when its goroutine is descheduled right there.
func BeginRelease(l *Limiter, key string) int {
	l.clock.mu.Lock()
	var slots []*holding
	if hk := l.clock.held[l.set.names.slotKey(key)]; hk != nil {
		for _, s := range hk.slots {
			slots = append(slots, s)
		}
	}
	l.clock.mu.Unlock()
	for _, s := range slots {
		l.clock.drop(s)
	}
	return len(slots)
}

// CanaryConfirmed reports whether a subscription to l's restart canary (see
// subscriber.watch) is live in Redis: l's, or another Limiter's on that
// Redis, as every Prefix shares the channel.
func CanaryConfirmed(l *Limiter) bool {
	n, err := l.client.PubSubNumSub(context.Background(), l.sub.canary).Result()
	return err == nil && n[l.sub.canary] > 0
}

// CanaryChecked reports whether l's restart canary's first confirmation
// has been looked into (see subscriber.firstConfirmed).
func CanaryChecked(l *Limiter) bool { return l.sub.checked.Load() }

// OnOneNode reports whether l's client is a *redis.Client, whose canary's
// first confirmation looks at the slots held instead of running a round.
func OnOneNode(l *Limiter) bool {
	_, ok := l.client.(*redis.Client)
	return ok
}

// CanaryChannel returns the channel of l's restart canary.
func CanaryChannel(l *Limiter) string { return l.sub.canary }

// LoadScriptsButAcquire loads every script of the package but the acquire
// script into c's script cache.
func LoadScriptsButAcquire(ctx context.Context, c redis.Scripter) error {
	for _, s := range []*redis.Script{renewScript, adoptScript, freeScript, renewWaitersScript, inUseScript, loadScript} {
		if err := s.Load(ctx, c).Err(); err != nil {
			return err
		}
	}
	return nil
}

// FallbackOn reports whether l's fallback state is on.
func FallbackOn(l *Limiter) bool { return l.fb.degraded() }

// OutOfReach reports whether l counts the master of key's slot set out of
// reach (on other clients, always).
func OutOfReach(l *Limiter, key string) bool {
	return l.reach.outOfReach(l.bg, l.set.names.slotKey(key))
}

// HealthChanges returns how many times l has found Redis down or back.
func HealthChanges(l *Limiter) uint64 {
	_, change := l.health.state()
	return change
}
