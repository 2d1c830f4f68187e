package redisslot

import (
	"sync/atomic"
	"unsafe"
)

// LockFallback locks l's fallback state, as a call in progress would, and
// returns its unlock: it holds the renewer at its next use of the state.
func LockFallback(l *Limiter) (unlock func()) {
	l.fb.mu.Lock()
	return l.fb.mu.Unlock
}

// KnownToRedis returns how many of the slots l holds the lease clock counts
// as known to Redis (not fallback slots awaiting adoption).
func KnownToRedis(l *Limiter) int {
	n := 0
	l.clock.each(func(hk *heldKey) {
		for _, s := range hk.slots {
			if !s.fallback {
				n++
			}
		}
	})
	return n
}

// FallbackLockStarving reports whether the lock of l's fallback state is in
// sync.Mutex's starvation mode, in which Unlock hands it to the waiter that
// has waited longest and a new Lock queues behind every waiter. It reads
// the Mutex's state word (the first field of internal/sync.Mutex, whose bit
// 4 is mutexStarving): tests use it to order the lock's waiters.
func FallbackLockStarving(l *Limiter) bool {
	return atomic.LoadInt32((*int32)(unsafe.Pointer(&l.fb.mu)))&4 != 0
}
