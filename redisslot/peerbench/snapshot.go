package main

import (
	"context"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"
)

// A snapshot is the counters read at one instant: the clock, Redis's
// commands and CPU, and this process's CPU and allocations.
type snapshot struct {
	at      time.Time
	redis   redisCounts
	client  time.Duration
	mallocs uint64 // 0 unless taken withAllocs
}

// usage is what happened between two snapshots.
type usage struct {
	elapsed time.Duration
	redis   redisCounts
	client  time.Duration
	mallocs uint64
}

// withAllocs asks take to read the allocation count too, which stops the
// world for a moment: only the uncontended runs, whose callers are idle
// then, read it.
const withAllocs = true

// take reads a snapshot. The clock is read last, once Redis has answered,
// at both ends of a window alike.
func take(ctx context.Context, c *redis.Client, allocs bool) (snapshot, error) {
	rc, err := readRedisCounts(ctx, c)
	if err != nil {
		return snapshot{}, err
	}
	s := snapshot{redis: rc, client: clientCPU()}
	if allocs {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.mallocs = ms.Mallocs
	}
	s.at = time.Now()
	return s, nil
}

// since returns the usage from earlier to s.
func (s snapshot) since(earlier snapshot) usage {
	return usage{
		elapsed: s.at.Sub(earlier.at),
		redis:   s.redis.sub(earlier.redis),
		client:  s.client - earlier.client,
		mallocs: s.mallocs - earlier.mallocs,
	}
}
