package redisslot

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// InUse returns the number of live holders of key, cluster-wide: members of
// its slot set whose lease has not ended by Redis time. A release returns
// before Redis hears of it, so InUse may count a slot released an instant
// ago until its free arrives (well under a second on a healthy Redis; when
// Redis is unreachable, until a renewal round gets it through or the lease
// ends). It keeps working while Redis is out of memory. It returns
// ErrClosed once Close has been called, an error for a bad key, and a Redis
// error wrapped with the key. InUse panics if ctx is nil.
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
	c := call{script: inUseScript, keys: []string{l.set.names.slotKey(key)}}
	n, err := evalAll(ctx, l.client, []call{c}, onceEmptied(l.renewer.emptied))[0].Int()
	if err != nil {
		return 0, fmt.Errorf("redisslot: count holders of key %s: %w", quoteKey(key), err)
	}
	return n, nil
}

// Load returns, for each of keys in order, how busy it is across all
// instances, by Redis's clock: InUse counts the holders whose lease has not
// ended, and Waiting the waiters, on every instance, whose entry in the
// key's queue has not ended. A key's two counts are read together,
// atomically; different keys may be read at different moments. As with
// [Limiter.InUse], a slot released or a waiter that left a moment ago may
// be counted until its removal arrives.
//
// Load makes one round trip per Redis node, whatever the number of keys
// (one more after Redis's script cache was emptied): one pipeline of one
// script call per few hundred keys, of one hash slot on a Redis Cluster
// client, of one key on any other client but a single node or a failover
// client. A gateway uses it to pick its least loaded account.
//
// It returns no Loads and no error for no keys, ErrClosed once Close has
// been called, and an error for a bad key. When Redis fails for some keys
// (one overwritten with another type, say), it still returns a Load for
// every key, with only Key set for those, and an error joining one error
// per failed key ([errors.Join]), each naming its key and wrapping Redis's
// error. Load panics if ctx is nil.
func (l *Limiter) Load(ctx context.Context, keys ...string) ([]Load, error) {
	if ctx == nil {
		panic("redisslot: Load called with a nil Context")
	}
	loads := make([]Load, len(keys))
	for i, key := range keys {
		if err := l.set.names.check(key); err != nil {
			return nil, err
		}
		loads[i].Key = key
	}
	if !l.enter() {
		return nil, ErrClosed
	}
	defer l.calls.Done()
	batches := loadBatches(l.set.names, l.renewer.grouping, keys)
	calls := make([]call, len(batches))
	for i, b := range batches {
		calls[i] = call{script: loadScript, keys: b.names}
	}
	var errs []error
	for i, cmd := range evalAll(ctx, l.client, calls, onceEmptied(l.renewer.emptied)) {
		errs = append(errs, batches[i].read(cmd, loads)...)
	}
	return loads, errors.Join(errs...)
}

// A loadBatch is one call of the load script.
type loadBatch struct {
	at    []int    // index of each key in Load's arguments
	names []string // KEYS: each key's slot set and entry ends
}

// loadBatches groups keys into load calls of up to batchSize keys (see bucketOf).
func loadBatches(n names, grouping int, keys []string) []*loadBatch {
	open := make(map[string]*loadBatch)
	var done []*loadBatch
	for i, key := range keys {
		ref := n.ref(key)
		bucket := bucketOf(grouping, ref.rkey())
		b := open[bucket]
		if b == nil {
			b = &loadBatch{}
			open[bucket] = b
			done = append(done, b)
		}
		b.at = append(b.at, i)
		b.names = append(b.names, ref.names[0], ref.names[2])
		if len(b.at) == batchSize {
			delete(open, bucket)
		}
	}
	return done
}

// read writes b's counts into loads, and returns an error per failed key.
func (b *loadBatch) read(cmd *redis.Cmd, loads []Load) []error {
	reply, err := cmd.Slice()
	if err == nil && len(reply) != len(b.names) {
		err = fmt.Errorf("unexpected reply %v", reply)
	}
	var errs []error
	for i, at := range b.at {
		keyErr := err
		if err == nil {
			if held, _ := reply[2*i].(int64); held >= 0 {
				wait, _ := reply[2*i+1].(int64)
				loads[at].InUse, loads[at].Waiting = int(held), int(wait)
				continue
			}
			msg, _ := reply[2*i+1].(string)
			keyErr = replyError(msg)
		}
		errs = append(errs, fmt.Errorf("redisslot: load of key %s: %w", quoteKey(loads[at].Key), keyErr))
	}
	return errs
}

// replyError is an error reply that a script passed on: a [redis.Error].
type replyError string

func (e replyError) Error() string { return string(e) }

// RedisError marks e as an error reply of Redis.
func (replyError) RedisError() {}
