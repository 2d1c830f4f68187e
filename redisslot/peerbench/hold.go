package main

import (
	"context"
	"sync"

	"github.com/ctxguard/release/redisslot"
)

// holdWorkers is how many TryAcquire calls holdKeys keeps in flight.
const holdWorkers = 16

// holdKeys takes one slot of each key with l, and returns their releases.
// On an error it releases what it took.
func holdKeys(ctx context.Context, l *redisslot.Limiter, keys []string) ([]func(), error) {
	releases := make([]func(), len(keys))
	errs := make([]error, holdWorkers)
	var wg sync.WaitGroup
	for w := range holdWorkers {
		wg.Go(func() {
			for i := w; i < len(keys) && errs[w] == nil; i += holdWorkers {
				_, releases[i], errs[w] = l.TryAcquire(ctx, keys[i], 1)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			releaseAll(releases)
			return nil, err
		}
	}
	return releases, nil
}

// releaseAll calls every non-nil release.
func releaseAll(releases []func()) {
	for _, rel := range releases {
		if rel != nil {
			rel()
		}
	}
}
