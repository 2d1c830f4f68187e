package redisslot

import (
	"context"
	"fmt"
)

// Load returns, for each of keys in order, how busy it is across all
// instances: InUse counts the holders whose lease has not ended, and Waiting
// the waiters, on every instance, whose entry in the key's queue has not
// ended, both by Redis's clock. The two counts of one key are read
// together, atomically; different keys are read one after another. Like
// [Limiter.InUse], InUse may count a slot released a moment ago until its
// free arrives (well under a second on a healthy Redis), and Waiting a
// waiter that just left until its removal arrives.
//
// Load makes one round trip per Redis node, whatever the number of keys:
// one script call per key, all in one pipeline, which a cluster client
// splits by node. (After Redis's script cache was emptied, one more, to
// load the script again.) A gateway uses it to pick its least loaded
// account, and for an admin view.
//
// It returns no Loads and no error for no keys, ErrClosed once Close has
// been called, an error for an empty key, and a Redis error wrapped naming
// the key (the first that failed). Load panics if ctx is nil.
func (l *Limiter) Load(ctx context.Context, keys ...string) ([]Load, error) {
	if ctx == nil {
		panic("redisslot: Load called with a nil Context")
	}
	for _, key := range keys {
		if err := l.checkKey(key); err != nil {
			return nil, err
		}
	}
	if !l.enter() {
		return nil, ErrClosed
	}
	defer l.wg.Done()
	if len(keys) == 0 {
		return []Load{}, nil
	}
	calls := make([]call, len(keys))
	for i, key := range keys {
		calls[i] = call{keys: keysOf(l.slotKey(key))}
	}
	loads := make([]Load, len(keys))
	var errs []error
	for i, cmd := range evalAll(ctx, l.client, loadScript, calls) {
		n, err := cmd.Int64Slice()
		if err == nil && len(n) != 2 {
			err = fmt.Errorf("unexpected reply %v", n)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("redisslot: load of key %s: %w", quoteKey(keys[i]), err))
			continue
		}
		loads[i] = Load{Key: keys[i], InUse: int(n[0]), Waiting: int(n[1])}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return loads, nil
}
