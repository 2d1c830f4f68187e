package redisslot

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The slot set of a key is one sorted set at Prefix+key: one member per held
// slot, named by a member id unique to that acquire, scored by the time its
// lease ends, in Redis milliseconds. Every script reads the time from Redis
// (TIME, whose microseconds give the milliseconds), so the clocks of the
// instances play no part. A member whose score is not after Redis's now has
// lost its lease and holds nothing.
//
// Each script touches only the key in KEYS[1], so it runs on Redis Cluster.
// Each is idempotent per member id: a client that sends a call again (after
// a timeout, or by go-redis's retries) gets the same outcome and changes
// nothing more.

// nowMs is the Lua prologue that sets now to Redis's time in milliseconds.
const nowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// keepKeyAlive is the Lua that makes the slot set itself expire with its
// longest lease, so a key nobody uses any more does not stay behind. It
// expects expiry, the score just written.
const keepKeyAlive = `
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local last = expiry
if top[2] and tonumber(top[2]) > last then last = tonumber(top[2]) end
redis.call('PEXPIREAT', KEYS[1], last)
`

// acquireScript takes a slot: it drops the members whose lease has ended,
// counts the rest, and adds the member when fewer than the limit hold the
// key. A member already present (an earlier run of this same call) is
// admitted again without being counted twice.
//
// KEYS[1]: the slot set. ARGV[1]: member id; ARGV[2]: limit; ARGV[3]: lease
// in milliseconds. Returns 1 when the member holds a slot, 0 when the key is
// full.
var acquireScript = redis.NewScript(nowMs + `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
	return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
	return 0
end
local expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
` + keepKeyAlive + `
return 1
`)

// renewScript extends the leases of one instance's members of one key, up
// to a few hundred per call. It extends only members still present whose
// lease has not ended, and never adds one: a member that vanished (freed
// from outside, or lost in a Redis restart) stays gone.
//
// KEYS[1]: the slot set. ARGV[1]: lease in milliseconds; ARGV[2..]: member
// ids. Returns the member ids that were not extended: their leases are lost.
var renewScript = redis.NewScript(nowMs + `
local expiry = now + tonumber(ARGV[1])
local lost = {}
local kept = 0
for i = 2, #ARGV do
	local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
	if score and tonumber(score) > now then
		redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
		kept = kept + 1
	else
		lost[#lost + 1] = ARGV[i]
	end
end
if kept > 0 then
` + keepKeyAlive + `
end
return lost
`)

// releaseScript frees slots: it removes the given members and the members
// whose lease has ended, and, in the same call, publishes how many slots
// that freed on the key's wake-up channel, so waiters on every instance
// hear of it without an extra round trip.
//
// KEYS[1]: the slot set. ARGV[1]: wake-up channel; ARGV[2..]: member ids.
// Returns how many of the given members were present.
var releaseScript = redis.NewScript(nowMs + `
local freed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local removed = 0
for i = 2, #ARGV do
	removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
end
freed = freed + removed
if freed > 0 then
	redis.call('PUBLISH', ARGV[1], freed)
end
return removed
`)

// inUseScript counts the members whose lease has not ended by Redis time.
// It writes nothing.
//
// KEYS[1]: the slot set. Returns the count.
var inUseScript = redis.NewScript(nowMs + `
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

// batchSize is the most member ids passed to one script call: Lua's unpack
// and a single Redis call both suffer with tens of thousands of arguments,
// and a long script blocks Redis for everyone.
const batchSize = 500

// A call is one script run on one key.
type call struct {
	key  string // Redis key, KEYS[1]
	args []any
}

// evalAll runs s once for each call in one pipeline, one round trip
// whatever the number of calls, and returns a command per call. A pipelined
// EVALSHA gets no EVAL fallback from go-redis, so when Redis answers
// NOSCRIPT (its script cache was emptied by a restart or SCRIPT FLUSH),
// evalAll loads the script again and sends the failed calls once more.
func evalAll(ctx context.Context, c redis.UniversalClient, s *redis.Script, calls []call) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 1 {
		cmds[0] = s.Run(ctx, c, []string{calls[0].key}, calls[0].args...)
		return cmds
	}
	send := func(idx []int) {
		pipe := c.Pipeline()
		for _, i := range idx {
			cmds[i] = s.EvalSha(ctx, pipe, []string{calls[i].key}, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx) // each command carries its own error
	}
	all := make([]int, len(calls))
	for i := range all {
		all[i] = i
	}
	send(all)
	var again []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return cmds
	}
	if err := s.Load(ctx, c).Err(); err != nil {
		for _, i := range again {
			cmds[i] = redis.NewCmd(ctx)
			cmds[i].SetErr(err)
		}
		return cmds
	}
	send(again)
	return cmds
}

// isNoScript reports whether err is Redis's NOSCRIPT, as go-redis gives it
// either normalized or raw.
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}
