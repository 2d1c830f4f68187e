package redisslot

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The slot set of a key is one sorted set at Prefix+"{"+key+"}": one member
// per held slot, named by a member id unique to that acquire, scored by the
// time its lease ends, in Redis milliseconds. Every script reads the time
// from Redis (TIME, whose microseconds give the milliseconds), so the
// clocks of the instances play no part. A member whose score is not after
// Redis's now has lost its lease and holds nothing.
//
// The key's queue of waiters, from every instance, is two more sorted sets
// with the same name and a suffix: ":queue", scored by the order of joining
// (Redis microseconds, made strictly increasing), and ":queue:until",
// scored by the time each waiter's entry ends unless renewed. A waiter's
// entry is the member id it takes its slot under. The braces around the key
// are a Redis Cluster hash tag: the three sets live in one hash slot, so a
// script may touch them all.
//
// Each script touches only the keys in KEYS, and is called with keys of
// one hash slot on Redis Cluster. Each is idempotent per member id: a
// client that sends a call again (after a timeout, or by go-redis's
// retries) gets the same outcome and changes nothing more.

// nowMs is the Lua prologue that sets now to Redis's time in milliseconds,
// and nowUs to it in microseconds.
const nowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
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

// queueLua defines the Lua functions on a key's queue: KEYS[2] holds the
// waiters by order of joining, KEYS[3] by the end of their entries.
const queueLua = `
-- dropLapsed removes up to 500 waiters whose entry has ended and returns
-- how many it removed.
local function dropLapsed()
	local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 500)
	if #gone > 0 then
		redis.call('ZREM', KEYS[3], unpack(gone))
		redis.call('ZREM', KEYS[2], unpack(gone))
	end
	return #gone
end

-- keepQueueAlive makes both sets of the queue expire when its last entry
-- ends. Empty sets are deleted by Redis itself.
local function keepQueueAlive()
	local top = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
	if top[2] then
		redis.call('PEXPIREAT', KEYS[2], top[2])
		redis.call('PEXPIREAT', KEYS[3], top[2])
	end
end

-- unqueue takes member out of the queue, and returns 1 if it was first in
-- line, else 0.
local function unqueue(member)
	local rank = redis.call('ZRANK', KEYS[2], member)
	if not rank then
		return 0
	end
	redis.call('ZREM', KEYS[2], member)
	redis.call('ZREM', KEYS[3], member)
	if rank == 0 then
		return 1
	end
	return 0
end

-- limitOf returns the limit that a waiter's Acquire passed, which ends its
-- member id after a slash.
local function limitOf(member)
	return tonumber(string.match(member, '/(%d+)$')) or math.huge
end

-- fits reports whether a caller with limit, rank waiters ahead of it, may
-- take a slot now without taking one that a waiter ahead of it needs:
-- after it takes, the waiters ahead, taking theirs in order, must each
-- still find fewer holders than their own limit.
local function fits(rank, limit)
	local held = redis.call('ZCARD', KEYS[1])
	if held + rank >= limit then
		return false
	end
	if rank == 0 then
		return true
	end
	local ahead = redis.call('ZRANGE', KEYS[2], 0, rank - 1)
	for i, m in ipairs(ahead) do
		if held + i >= limitOf(m) then
			return false
		end
	end
	return true
end

-- wake, when n is positive (something changed that may let waiters in),
-- publishes on the wake-up channel the member ids of the waiters that may
-- take a slot now, first in line first, up to 32: each has fewer holders
-- and waiters ahead of it than its limit. Each instance wakes those of
-- them that wait on it, and no other.
local function wake(channel, n)
	if n <= 0 then
		return
	end
	local held = redis.call('ZCARD', KEYS[1])
	local ids = {}
	for i, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, 31)) do
		if held + i - 1 >= limitOf(m) then
			break
		end
		ids[#ids + 1] = m
	end
	if #ids > 0 then
		redis.call('PUBLISH', channel, table.concat(ids, ' '))
	end
end
`

// acquireScript takes a slot, in line: it drops the members whose lease has
// ended and the waiters whose entry has ended, and admits the member when
// fewer than the limit hold the key and it comes first in line: a queued
// member when fewer waiters are ahead of it than slots are free, and
// taking a slot leaves enough for each of those by its own limit (a
// waiter's member id ends in "/" and its limit); a new one when nobody
// waits (TryAcquire), or as if it had joined at the back (Acquire). When
// it admits a waiter and the next in line may fit too, or it freed slots
// (ended leases, carried frees), it wakes those that may take one. A member already holding a slot (an earlier run of
// this same call) is admitted again without being counted twice. A member
// not admitted by Acquire joins the queue at its back, or, queued already,
// has its entry renewed. A new waiter beyond the cap is refused.
//
// It first removes the calling Limiter's pending frees of the key (see
// carriedFrees), so that a release followed at once by an acquire is not
// refused for want of its own free. It is a flagged script without
// allow-oom: Redis refuses it whole while out of memory, before any write.
//
// KEYS: the slot set, the queue, the queue's entry ends. ARGV[1]: member
// id; ARGV[2]: limit; ARGV[3]: lease in milliseconds; ARGV[4]: wake-up
// channel; ARGV[5]: mode, "try" (never queue), "join" (queue within the
// cap) or "wait" (queued before: join again at the back, whatever the cap,
// if the entry is gone); ARGV[6]: the cap, 0 for none; ARGV[7]: entry TTL
// in milliseconds; ARGV[8..]: pending frees. Returns {1, 0} when the member
// holds a slot, {0, 0} when the key is full for TryAcquire, {2, order} when
// the member waits in line at that order, {3, 0} when the queue is at its
// cap.
var acquireScript = redis.NewScript("#!lua" + nowMs + queueLua + carriedFrees + `
local member, limit, mode = ARGV[1], tonumber(ARGV[2]), ARGV[5]
local freed = carried + redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], member) then
	wake(ARGV[4], freed)
	return {1, 0}
end
freed = freed + dropLapsed()
local free = limit - redis.call('ZCARD', KEYS[1])
local waiters = redis.call('ZCARD', KEYS[2])
local rank = redis.call('ZRANK', KEYS[2], member)
local admit
if mode == 'try' and not rank then
	admit = free > 0 and waiters == 0
else
	admit = fits(rank or waiters, limit)
end
if admit then
	local expiry = now + tonumber(ARGV[3])
	redis.call('ZADD', KEYS[1], expiry, member)
` + keepKeyAlive + `
	if rank then
		redis.call('ZREM', KEYS[2], member)
		redis.call('ZREM', KEYS[3], member)
	end
	local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
	if freed > 1 or (head and redis.call('ZCARD', KEYS[1]) < limitOf(head)) then
		wake(ARGV[4], 1)
	end
	return {1, 0}
end
wake(ARGV[4], freed)
if mode == 'try' then
	return {0, 0}
end
if not rank then
	local cap = tonumber(ARGV[6])
	if mode == 'join' and cap > 0 and waiters >= cap then
		return {3, 0}
	end
	local order = nowUs
	local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
	if last[2] and tonumber(last[2]) >= order then order = tonumber(last[2]) + 1 end
	redis.call('ZADD', KEYS[2], order, member)
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[7]), member)
keepQueueAlive()
return {2, tonumber(redis.call('ZSCORE', KEYS[2], member))}
`)

// carriedFrees is the Lua that removes the pending frees an acquire
// carries, ARGV[8..], from the slot set and from the queue, and counts in
// carried the slots that freed, and one more if it took out the first in
// line.
const carriedFrees = `
local carried = 0
for i = 8, #ARGV do
	carried = carried + redis.call('ZREM', KEYS[1], ARGV[i]) + unqueue(ARGV[i])
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

// renewWaitersScript renews the entries of one instance's waiters of one
// key, up to a few hundred per call, and then drops the waiters of any
// instance whose entry has ended. A waiter still in the queue keeps its
// place even if its entry ended (a Redis stall longer than the entry TTL)
// and no script has dropped it yet; one no longer in the queue is not
// added: it joins again, at the back, on its next try. When it drops
// lapsed waiters of a queue that others still wait in, it publishes a
// wake-up, so that those behind try at once. It may run out of memory:
// it adds nothing.
//
// KEYS: the slot set (not touched), the queue, the queue's entry ends.
// ARGV[1]: entry TTL in milliseconds; ARGV[2]: the wake-up channel;
// ARGV[3..]: member ids. Returns the member ids no longer in the queue.
var renewWaitersScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + queueLua + `
local lost = {}
local ends = now + tonumber(ARGV[1])
for i = 3, #ARGV do
	if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
		redis.call('ZADD', KEYS[3], ends, ARGV[i])
	else
		lost[#lost + 1] = ARGV[i]
	end
end
wake(ARGV[2], dropLapsed())
keepQueueAlive()
return lost
`)

// releaseScript frees slots and takes waiters out of the queue: it removes
// the given members from the slot set and from the queue, with the members
// whose lease has ended and the waiters whose entry has ended, and, in the
// same call, when that freed a slot or took out the first in line,
// publishes on the key's wake-up channel the waiters that may now take a
// slot, so that they hear of it, on every instance, without an extra round
// trip. A key that is no slot set has nothing to free. It may run out of
// memory: it only removes.
//
// KEYS: the slot set, the queue, the queue's entry ends. ARGV[1]: wake-up
// channel; ARGV[2..]: member ids. Returns the given member ids that held a
// slot.
var releaseScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + queueLua + `
local ended = redis.pcall('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if type(ended) == 'table' and ended.err then
	return {}
end
local removed = {}
local headLeft = 0
for i = 2, #ARGV do
	if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
		removed[#removed + 1] = ARGV[i]
	end
	headLeft = headLeft + unqueue(ARGV[i])
end
wake(ARGV[1], ended + #removed + headLeft + dropLapsed())
return removed
`)

// inUseScript counts the members whose lease has not ended by Redis time.
// It writes nothing, and runs while Redis is out of memory.
//
// KEYS[1]: the slot set. Returns the count.
var inUseScript = redis.NewScript("#!lua flags=no-writes,allow-oom" + nowMs + `
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

// loadScript counts the members whose lease has not ended and the waiters
// whose entry has not ended, by Redis time. It writes nothing, and runs
// while Redis is out of memory.
//
// KEYS: the slot set, the queue (not touched), the queue's entry ends.
// Returns {holders, waiters}.
var loadScript = redis.NewScript("#!lua flags=no-writes,allow-oom" + nowMs + `
return {redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf'), redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf')}
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
