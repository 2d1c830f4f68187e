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
// Each script touches only the keys in KEYS, and is called with keys of
// one hash slot on Redis Cluster.
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
// It first removes the calling Limiter's pending frees of the key (see
// carriedFrees), so that a release followed at once by an acquire is not
// refused for want of its own free. It is a flagged script without
// allow-oom: Redis refuses it whole while out of memory, before any write.
//
// KEYS[1]: the slot set. ARGV[1]: member id; ARGV[2]: limit; ARGV[3]: lease
// in milliseconds; ARGV[4]: wake-up channel; ARGV[5..]: pending frees.
// Returns 1 when the member holds a slot, 0 when the key is full.
var acquireScript = redis.NewScript("#!lua" + nowMs + carriedFrees + `
local function take()
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
end
local taken = take()
` + announceCarried + `
return taken
`)

// carriedFrees is the Lua that removes the pending frees an acquire
// carries, ARGV[5..], and counts them in carried.
const carriedFrees = `
local carried = 0
for i = 5, #ARGV do
	carried = carried + redis.call('ZREM', KEYS[1], ARGV[i])
end
`

// announceCarried is the Lua that publishes on ARGV[4] the slots the
// carried frees gave to others: those removed, less the one taken, if any.
const announceCarried = `
if carried - taken > 0 then
	redis.call('PUBLISH', ARGV[4], carried - taken)
end
`

// renewScript extends the leases of one instance's members of many keys,
// up to batchSize members per call. It extends only members still present
// whose lease has not ended, and never adds one: a member that vanished
// (freed from outside, or lost in a Redis restart) stays gone, and so do
// all the members of a key that is no slot set any more (WRONGTYPE). Per
// key it runs ZMSCORE, one ZADD XX and one PEXPIREAT GT (the set expires
// with its longest lease). It may run out of memory: renewing adds nothing.
//
// KEYS: the slot sets. ARGV[1]: lease in milliseconds; ARGV[1+i]: how many
// member ids of KEYS[i] follow; then the member ids, key by key. Returns
// the member ids that were not extended: their leases are lost.
var renewScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + `
local expiry = now + tonumber(ARGV[1])
local lost = {}
local at = 2 + #KEYS
for k = 1, #KEYS do
	local ids = {}
	for i = at, at + tonumber(ARGV[1 + k]) - 1 do
		ids[#ids + 1] = ARGV[i]
	end
	at = at + #ids
	local scores = redis.pcall('ZMSCORE', KEYS[k], unpack(ids))
	local args = {}
	for i, m in ipairs(ids) do
		local score = (not scores.err) and scores[i]
		if score and tonumber(score) > now then
			args[#args + 1] = expiry
			args[#args + 1] = m
		else
			lost[#lost + 1] = m
		end
	end
	if #args > 0 then
		redis.call('ZADD', KEYS[k], 'XX', unpack(args))
		redis.call('PEXPIREAT', KEYS[k], expiry, 'GT')
	end
end
return lost
`)

// releaseScript frees slots: it removes the given members and the members
// whose lease has ended, and, in the same call, publishes how many slots
// that freed on the key's wake-up channel, so waiters on every instance
// hear of it without an extra round trip. A key that is no slot set has
// nothing to free. It may run out of memory: it only removes.
//
// KEYS[1]: the slot set. ARGV[1]: wake-up channel; ARGV[2..]: member ids.
// Returns the given member ids that were present.
var releaseScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + `
local ended = redis.pcall('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if type(ended) == 'table' and ended.err then
	return {}
end
local removed = {}
for i = 2, #ARGV do
	if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
		removed[#removed + 1] = ARGV[i]
	end
end
if ended + #removed > 0 then
	redis.call('PUBLISH', ARGV[1], ended + #removed)
end
return removed
`)

// inUseScript counts the members whose lease has not ended by Redis time.
// It writes nothing, and runs while Redis is out of memory.
//
// KEYS[1]: the slot set. Returns the count.
var inUseScript = redis.NewScript("#!lua flags=no-writes,allow-oom" + nowMs + `
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

// batchSize is the most member ids passed to one script call: Lua's unpack
// and a single Redis call both suffer with tens of thousands of arguments,
// and a long script blocks Redis for everyone.
const batchSize = 500

// A call is one script run.
type call struct {
	keys []string // KEYS
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
		cmds[0] = s.Run(ctx, c, calls[0].keys, calls[0].args...)
		return cmds
	}
	send := func(idx []int) {
		pipe := c.Pipeline()
		for _, i := range idx {
			cmds[i] = s.EvalSha(ctx, pipe, calls[i].keys, calls[i].args...)
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
