package redisslot

import (
	"context"
	"fmt"
)

// freeLater frees a member whose acquire failed or was abandoned after it
// may have reached Redis, on a goroutine of its own. The caller is counted
// in l.wg. If the free fails, the member ends with its lease.
func (l *Limiter) freeLater(values context.Context, key, rkey, member string) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(values), l.releaseTimeout)
		defer cancel()
		err := releaseScript.Run(ctx, l.client, []string{rkey}, wakeChannel(rkey), member).Err()
		if err != nil {
			l.report(fmt.Errorf("redisslot: free slot of key %q after a failed acquire: %w", key, err))
		}
	}()
}

// freeAll frees the given slots, one call per key and batch, in one
// pipeline, bounded by ReleaseTimeout. It returns an error per failed call.
func (l *Limiter) freeAll(held map[string]*heldKey) []error {
	var calls []call
	var keys []string
	for rkey, hk := range held {
		args := []any{wakeChannel(rkey)}
		for member := range hk.slots {
			args = append(args, member)
			if len(args) == 1+batchSize {
				calls = append(calls, call{rkey, args})
				keys = append(keys, hk.key)
				args = []any{wakeChannel(rkey)}
			}
		}
		if len(args) > 1 {
			calls = append(calls, call{rkey, args})
			keys = append(keys, hk.key)
		}
	}
	if len(calls) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.releaseTimeout)
	defer cancel()
	var errs []error
	for i, cmd := range evalAll(ctx, l.client, releaseScript, calls) {
		if err := cmd.Err(); err != nil {
			errs = append(errs, fmt.Errorf("redisslot: free %d slots of key %q on close: %w", len(calls[i].args)-1, keys[i], err))
		}
	}
	return errs
}
