package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// handAcquire is the hand-written design's acquire: one script that drops
// the members whose lease has ended, counts the rest, and adds one if there
// is room, scored by the end of its lease on the client's clock. KEYS[1] is
// the slot set; ARGV are now (ms), the lease (ms), the limit and the member.
// It runs 4 commands when it takes a slot (ZREMRANGEBYSCORE, ZCARD, ZADD,
// PEXPIRE) and 2 when the key is full.
var handAcquire = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
	return 0
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// handLease is the hand-written design's lease. It renews nothing: the
// holds of the benchmark are far shorter.
const handLease = 30 * time.Second

// handInstance is the sorted-set semaphore many services write by hand: the
// script above to acquire, polling every poll while the key is full, and a
// plain ZREM to release. Uncontended, that is 2 round trips and 6 commands
// inside Redis (EVALSHA and its 4, then ZREM). It has no queue, no wake-ups
// and no renewal.
type handInstance struct {
	client *redis.Client
	prefix string
	poll   time.Duration
	errs   *errorLog
	id     string // start of every member of this instance
	seq    atomic.Uint64
}

func newHandWritten(e env) *handInstance {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &handInstance{
		client: redis.NewClient(&redis.Options{Addr: e.addr}),
		prefix: e.prefix + "hand:",
		poll:   e.poll,
		errs:   e.errs,
		id:     hex.EncodeToString(b[:]) + "-",
	}
}

func openHandWritten(e env) (instance, error) { return newHandWritten(e), nil }

// try runs the acquire script once, and returns the slot's release if it
// took one.
func (h *handInstance) try(ctx context.Context, key string, limit int) (func(), error) {
	rkey := h.prefix + key
	member := h.id + strconv.FormatUint(h.seq.Add(1), 10)
	now := time.Now().UnixMilli()
	took, err := handAcquire.Run(ctx, h.client, []string{rkey}, now, handLease.Milliseconds(), limit, member).Int()
	if err != nil || took == 0 {
		return nil, err
	}
	return func() { h.errs.add(h.client.ZRem(context.Background(), rkey, member).Err()) }, nil
}

// acquire tries, and tries again every poll while the key is full.
func (h *handInstance) acquire(ctx context.Context, key string, limit int) (func(), error) {
	var t *time.Timer
	for {
		release, err := h.try(ctx, key, limit)
		if err != nil || release != nil {
			return release, err
		}
		if t == nil {
			t = time.NewTimer(h.poll)
			defer t.Stop()
		} else {
			t.Reset(h.poll)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (h *handInstance) close() error { return h.client.Close() }
