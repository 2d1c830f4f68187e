package redisslot

// The Lua pieces the scripts of scripts.go are made of.
//
// A key's slots are one sorted set, KEYS[1]: one member per held slot,
// scored by the end of its lease in Redis milliseconds. Its queue is two
// sorted sets, KEYS[2] scored by the order of joining (Redis microseconds,
// strictly increasing) and KEYS[3] by the end of each waiter's entry, and
// its tombstones a fourth, KEYS[4]: the member ids freed before the
// acquire that named them may have run, scored by when they may be
// forgotten. All four share the key's hash tag. Every script reads the time
// from Redis (TIME: its microseconds give the milliseconds), so the clocks
// of the instances play no part.
//
// A member whose score is not after Redis's now has lost its lease: it is
// counted by no script and holds nothing. Removing such members is left to
// the key's expiry and to the frees, so that an acquire need not pay for it.

// nowMs is the prologue that sets now to Redis's time in milliseconds, and
// nowUs in microseconds. (TIME: 1 command.)
const nowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
`

// commonLua defines the functions every key-scoped script uses.
const commonLua = `
-- expireAtLeast makes key live at least until ms, never shorter than it
-- would: PEXPIREAT GT, and NX for a key that has no expiry yet (a key just
-- made). 1 command, 2 for a new key.
local function expireAtLeast(key, ms)
	if redis.call('PEXPIREAT', key, ms, 'GT') == 0 then
		redis.call('PEXPIREAT', key, ms, 'NX')
	end
end

-- holders counts the live holders of the key. 1 command.
local function holders()
	return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
end

-- limitOf returns the limit that a waiter's Acquire passed, which ends its
-- member id after a slash.
local function limitOf(member)
	return tonumber(string.match(member, '/(%d+)$')) or math.huge
end

-- dropLapsed removes up to 500 waiters whose entry has ended and returns
-- how many. 1 command, 3 when it removes any.
local function dropLapsed()
	local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 500)
	if #gone > 0 then
		redis.call('ZREM', KEYS[3], unpack(gone))
		redis.call('ZREM', KEYS[2], unpack(gone))
	end
	return #gone
end

-- unqueue takes member out of the queue, and returns 1 if it was first in
-- line, else 0. 1 command, 3 when it was queued.
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

-- wake publishes, on the key's wake-up channel, the member ids of the
-- waiters whose turn it is, given held live holders: first in line first,
-- up to 32, while each finds fewer holders and waiters ahead of it than
-- its limit. Only those waiters try; each instance wakes those of them
-- that wait on it. 1 command, 2 when it publishes.
local function wake(held)
	local ids = {}
	for i, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, 31)) do
		if held + i - 1 >= limitOf(m) then
			break
		end
		ids[#ids + 1] = m
	end
	if #ids > 0 then
		redis.call('PUBLISH', KEYS[1] .. ':wake', table.concat(ids, ' '))
	end
end

-- fits reports whether a caller with limit, rank waiters ahead of it, may
-- take a slot when held hold the key, without taking one that a waiter
-- ahead of it needs: after it takes, the waiters ahead, taking theirs in
-- order, must each still find fewer holders than their own limit. No
-- command for the head of the line, 1 otherwise.
local function fits(held, rank, limit)
	if held + rank >= limit then
		return false
	end
	if rank == 0 then
		return true
	end
	for i, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, rank - 1)) do
		if held + i >= limitOf(m) then
			return false
		end
	end
	return true
end
`
