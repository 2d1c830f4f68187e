package redisslot

import (
	"context"
	"errors"
	"fmt"
)

// InUse returns the number of live holders of key, cluster-wide: members of
// its slot set whose lease has not ended by Redis time. A release returns
// before Redis hears of it, so InUse may count a slot released an instant
// ago until its free arrives (well under a second on a healthy Redis; when
// Redis is unreachable, until a renewal round gets it through or the
// lease ends). It keeps working while Redis is out of memory. It returns
// ErrClosed once Close has been called, an error for a bad key, and a
// Redis error wrapped with the key.
// InUse panics if ctx is nil.
func (l *Limiter) InUse(ctx context.Context, key string) (int, error) {
	if ctx == nil {
		panic("redisslot: InUse called with a nil Context")
	}
	if err := l.set.names.check(key); err != nil {
		return 0, err
	}
	if !l.enter() {
		return 0, ErrClosed
	}
	defer l.calls.Done()
	n, err := inUseScript.Run(ctx, l.client, []string{l.set.names.slotKey(key)}).Int()
	if err != nil {
		return 0, fmt.Errorf("redisslot: count holders of key %s: %w", quoteKey(key), err)
	}
	return n, nil
}

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
// been called, and an error for a bad key. When Redis fails for some keys
// (one overwritten with another type, say), it still returns a Load for
// every key, those keys' with only Key set, and an error joining one error
// per failed key ([errors.Join]), each naming its key and wrapping Redis's
// error. Load panics if ctx is nil.
func (l *Limiter) Load(ctx context.Context, keys ...string) ([]Load, error) {
	if ctx == nil {
		panic("redisslot: Load called with a nil Context")
	}
	for _, key := range keys {
		if err := l.set.names.check(key); err != nil {
			return nil, err
		}
	}
	if !l.enter() {
		return nil, ErrClosed
	}
	defer l.calls.Done()
	if len(keys) == 0 {
		return []Load{}, nil
	}
	calls := make([]call, len(keys))
	for i, key := range keys {
		calls[i] = call{script: loadScript, keys: l.set.names.ref(key).keys[:3]}
	}
	loads := make([]Load, len(keys))
	var errs []error
	for i, cmd := range evalAll(ctx, l.client, calls) {
		loads[i].Key = keys[i]
		n, err := cmd.Int64Slice()
		if err == nil && len(n) != 2 {
			err = fmt.Errorf("unexpected reply %v", n)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("redisslot: load of key %s: %w", quoteKey(keys[i]), err))
			continue
		}
		loads[i].InUse, loads[i].Waiting = int(n[0]), int(n[1])
	}
	return loads, errors.Join(errs...)
}
