package redisslot

// The Lua pieces of the scripts. A key's four sorted sets (see names) are
// scored: KEYS[1], the slots, by lease end in Redis milliseconds; KEYS[2],
// the queue, by order of joining (Redis microseconds, strictly increasing);
// KEYS[3] by entry end; KEYS[4], the tombstones, by when they may be
// forgotten. Time is Redis's, so the instances' clocks play no part. A
// member scored at or before now holds nothing and no script counts it;
// the key's expiry and the frees remove it, so that an acquire need not pay.

// nowMs sets now to Redis's time in milliseconds and nowUs in microseconds.
const nowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
`

// commonLua defines the functions every key-scoped script uses.
const commonLua = `
-- expireAtLeast makes key live at least until ms (GT, or NX if it has no expiry). 1-2 commands.
local function expireAtLeast(key, ms)
	if redis.call('PEXPIREAT', key, ms, 'GT') == 0 then
		redis.call('PEXPIREAT', key, ms, 'NX')
	end
end

-- holders counts the live holders of the key. 1 command.
local function holders()
	return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
end

-- limitOf returns the limit that ends a waiter's member id, after a slash.
local function limitOf(member)
	return tonumber(string.match(member, '/(%d+)$')) or math.huge
end

-- dropLapsed removes up to 500 waiters whose entry has ended; returns how many. 1-3 commands.
local function dropLapsed()
	local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 500)
	if #gone > 0 then
		redis.call('ZREM', KEYS[3], unpack(gone))
		redis.call('ZREM', KEYS[2], unpack(gone))
	end
	return #gone
end

-- unqueue takes member out of the queue; returns 1 if it was first in line. 1-3 commands.
-- A queue that is no sorted set (WRONGTYPE) holds no member.
local function unqueue(member)
	local rank = redis.pcall('ZRANK', KEYS[2], member)
	if type(rank) ~= 'number' then
		return 0
	end
	redis.call('ZREM', KEYS[2], member)
	redis.call('ZREM', KEYS[3], member)
	return rank == 0 and 1 or 0
end

-- wake publishes on the key's channel the ids of the waiters whose turn it is, given held
-- holders: first in line first, up to 32, while each finds room under its limit. 1-2 commands.
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

-- fits reports whether a caller with limit and rank waiters ahead may take a slot when held
-- hold the key, leaving each waiter ahead room under its own limit. 0-1 commands.
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
