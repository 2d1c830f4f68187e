package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A design is one way to hand out the slots of a hot key, as the hot-key
// runs drive it: the callers of a run are spread over instances of it, each
// standing for one process with its own client.
type design struct {
	name      string
	usesRedis bool // false: its Redis columns read "–"
	mutexOnly bool // a lock, not a semaphore: run at L=1 only
	instances int  // instances a run spreads its callers over
	open      func(env) (instance, error)
}

// An instance is one process's handle on a design.
type instance interface {
	// acquire waits for a slot of key under limit until ctx is done, and
	// returns its release, which frees it (reporting any error to the
	// env's errors).
	acquire(ctx context.Context, key string, limit int) (release func(), err error)
	close() error
}

// env is what an instance is opened with.
type env struct {
	addr   string        // Redis
	prefix string        // put before every Redis key of this run
	poll   time.Duration // retry interval of the polling designs
	errs   *errorLog     // errors of background work and releases
}

// designs returns the hot-key designs in the order the tables list them.
func designs() []design {
	return []design{
		{name: "redisslot", usesRedis: true, instances: 2, open: openRedisslot},
		{name: "slots.Local", instances: 1, open: openLocal},
		{name: "hand-written", usesRedis: true, instances: 2, open: openHandWritten},
		{name: "rueidislock", usesRedis: true, mutexOnly: true, instances: 2, open: openRueidislock},
		{name: "bsm/redislock", usesRedis: true, mutexOnly: true, instances: 2, open: openRedislock},
	}
}

// An errorLog counts errors and keeps the first.
type errorLog struct {
	mu    sync.Mutex
	n     int
	first error
}

func (e *errorLog) add(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		e.first = err
	}
	e.n++
}

// String returns "" for no errors, else their count and the first.
func (e *errorLog) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d errors, the first: %v", e.n, e.first)
}
