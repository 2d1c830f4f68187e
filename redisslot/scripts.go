package redisslot

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The scripts. Each touches only the keys in KEYS, all of one hash slot
// (a key's four sets, or the slot sets of one renewal call), and is
// idempotent per member id: a call sent again (after a timeout, or by
// go-redis's retries) gets the same outcome and changes nothing more. The
// cost of each is given in commands run inside Redis, the EVALSHA and the
// TIME included, for its common case.

// acquireScript takes a slot, in line. It first removes the pending frees
// the call carries (slots this Limiter released), in one command: those it
// carries for good, and those on their way in other calls, so that a
// release followed at once by an acquire of its key is not refused for
// want of its own free, and the key never counts more than its limit. A
// member with a tombstone, freed before this call ran, is refused for
// good (a waiter's later tries, which follow an answered one, need no
// check). Otherwise the member is admitted when it comes first in line: a
// queued member when fewer waiters are ahead of it than slots are free and
// each of them still finds room under the limit it passed (a waiter's
// member id ends in "/" and its limit); a new member when nobody waits
// (mode "try"), or as if it had joined at the back (the other modes). A
// member that already holds a live slot (an earlier run of this same call)
// is admitted again, counted once. A member not admitted joins the queue
// at its back (mode "join", within the cap; mode "wait", whatever the cap,
// when its entry has gone), or, queued already, stays in its place (its
// entry is renewed by the entry renewals); mode "probe" only reports that
// it would join, so that the caller can learn the key's cap. When it frees
// slots or admits a waiter while others wait, it wakes those whose turn it
// is. Waiters whose entries ended are dropped only when they could stand
// ahead of the member.
//
// Each key it writes expires no earlier than what it wrote: the slot set
// with its longest lease (PEXPIREAT, GT unless no holder is left to
// outlive), the queue's sets with their last entry.
//
// It is flagged without allow-oom: while Redis is out of memory it is
// refused whole, before any write.
//
// KEYS: the slot set, the queue, the queue's entry ends, the tombstones.
// ARGV[1]: member id; ARGV[2]: limit; ARGV[3]: lease in milliseconds;
// ARGV[4]: mode; ARGV[5]: the cap, 0 for none; ARGV[6]: entry TTL in
// milliseconds; ARGV[7]: how many of the frees that follow it carries for
// good (the rest are on their way in other calls). Returns {state, order,
// rank}: see the state constants; the order is -1 for a member that kept
// its place.
//
// Cost: 7 commands to admit with nobody waiting, 1 more with frees; the
// first in line taking its slot, 11, and 1 more to publish; a queued
// member's try that finds no room, 7.
var acquireScript = redis.NewScript("#!lua" + nowMs + commonLua + `
local member, limit, mode = ARGV[1], tonumber(ARGV[2]), ARGV[4]
local freed = 0
if #ARGV >= 8 then
	freed = redis.call('ZREM', KEYS[1], unpack(ARGV, 8, #ARGV))
end
if mode ~= 'wait' and redis.call('ZSCORE', KEYS[4], member) then
	return {5, 0, 0}
end
local held = holders()
local waiters = redis.call('ZCARD', KEYS[2])
local rank = false
if waiters > 0 and mode ~= 'try' then
	rank = redis.call('ZRANK', KEYS[2], member)
end
if waiters > 0 and rank ~= 0 and dropLapsed() > 0 then
	waiters = redis.call('ZCARD', KEYS[2])
	if rank then
		rank = redis.call('ZRANK', KEYS[2], member)
	end
end
local admit
if rank then
	admit = fits(held, rank, limit)
elseif mode == 'try' then
	admit = waiters == 0 and held < limit
else
	admit = fits(held, waiters, limit)
end
if not admit then
	local score = redis.call('ZSCORE', KEYS[1], member)
	admit = score and tonumber(score) > now
end
if admit then
	local expiry = now + tonumber(ARGV[3])
	redis.call('ZADD', KEYS[1], expiry, member)
	if held == 0 then
		redis.call('PEXPIREAT', KEYS[1], expiry)
	else
		redis.call('PEXPIREAT', KEYS[1], expiry, 'GT')
	end
	if rank then
		redis.call('ZREM', KEYS[2], member)
		redis.call('ZREM', KEYS[3], member)
		waiters = waiters - 1
	end
	if waiters > 0 and (rank or freed > 0) then
		wake(held + 1)
	end
	return {1, 0, 0}
end
if freed > 0 and waiters > 0 then
	wake(held)
end
if mode == 'try' then
	return {0, 0, 0}
end
if rank then
	return {2, -1, rank}
end
if mode == 'probe' then
	return {4, 0, 0}
end
local cap = tonumber(ARGV[5])
if mode == 'join' and cap > 0 and waiters >= cap then
	return {3, 0, 0}
end
local order, ends = nowUs, now + tonumber(ARGV[6])
if waiters > 0 then
	local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
	if last[2] and tonumber(last[2]) >= order then
		order = tonumber(last[2]) + 1
	end
	redis.call('PEXPIREAT', KEYS[2], ends, 'GT')
	redis.call('PEXPIREAT', KEYS[3], ends, 'GT')
end
redis.call('ZADD', KEYS[2], order, member)
redis.call('ZADD', KEYS[3], ends, member)
if waiters == 0 then
	redis.call('PEXPIREAT', KEYS[2], ends)
	redis.call('PEXPIREAT', KEYS[3], ends)
end
return {2, order, waiters}
`)

// The states the acquire script answers with.
const (
	stateFull      = 0 // mode "try": no slot for this caller
	stateAdmitted  = 1 // the member holds a slot
	stateQueued    = 2 // the member waits in line, at order (-1: unchanged), rank ahead of it
	stateQueueFull = 3 // the queue is at its cap
	stateWouldJoin = 4 // mode "probe": the member would join the queue
	stateGone      = 5 // the member was freed before this call ran
)

// The modes of the acquire script.
const (
	modeTry   = "try"
	modeJoin  = "join"
	modeProbe = "probe"
	modeWait  = "wait"
)

// renewScript extends the leases of one instance's members of many keys,
// up to batchSize members per call. It first drops the members whose lease
// has ended (of any instance: they hold nothing), then updates the members
// still present (ZADD XX GT) and never adds one: a member whose lease
// ended, or that vanished (freed from outside, or lost in a Redis
// restart), stays gone, and so do all the members of a key that is no slot
// set any more (WRONGTYPE). The slot set
// then expires no earlier than the new leases (PEXPIREAT GT, so a longer
// lease of another instance is kept). It may run out of memory: renewing
// adds nothing.
//
// KEYS: the slot sets. ARGV[1]: lease in milliseconds; ARGV[1+i]: how many
// member ids of KEYS[i] follow; then the member ids, key by key. Returns
// the member ids that were not extended: their leases are lost.
//
// Cost: 2 for the call, 3 per key, 1 more for a key with a member missing.
var renewScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + `
local expiry = now + tonumber(ARGV[1])
local lost = {}
local at = 2 + #KEYS
for k = 1, #KEYS do
	local n = tonumber(ARGV[1 + k])
	local last = at + n - 1
	-- A key that is no sorted set fails here, and every member of it is
	-- lost; one that is, has none of the errors below.
	local changed = redis.pcall('ZREMRANGEBYSCORE', KEYS[k], '-inf', now)
	if type(changed) ~= 'number' then
		changed = false
	elseif n == 1 then
		changed = redis.call('ZADD', KEYS[k], 'XX', 'GT', 'CH', expiry, ARGV[at])
	else
		local args = {'ZADD', KEYS[k], 'XX', 'GT', 'CH'}
		for i = at, last do
			args[#args + 1] = expiry
			args[#args + 1] = ARGV[i]
		end
		changed = redis.call(unpack(args))
	end
	if type(changed) ~= 'number' then
		for i = at, last do
			lost[#lost + 1] = ARGV[i]
		end
	else
		if changed < n then
			local scores = redis.call('ZMSCORE', KEYS[k], unpack(ARGV, at, last))
			for j = 1, n do
				if not scores[j] then
					lost[#lost + 1] = ARGV[at + j - 1]
				end
			end
		end
		redis.call('PEXPIREAT', KEYS[k], expiry, 'GT')
	end
	at = last + 1
end
return lost
`)

// adoptScript writes into their keys' slot sets the slots this instance
// admitted on its own while Redis could not be reached (see
// Options.Fallback), whatever the limit, with a lease from now, so that
// every admission from now on counts them. It is idempotent per member,
// and may run out of memory: those slots are live, and must be counted.
//
// KEYS: the slot sets. ARGV[1]: lease in milliseconds; ARGV[1+i]: how many
// member ids of KEYS[i] follow; then the member ids, key by key. Returns
// nothing useful. Cost: 2 for the call, 2 or 3 per key.
var adoptScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + commonLua + `
local expiry = now + tonumber(ARGV[1])
local at = 2 + #KEYS
for k = 1, #KEYS do
	local args = {'ZADD', KEYS[k]}
	for i = at, at + tonumber(ARGV[1 + k]) - 1 do
		args[#args + 1] = expiry
		args[#args + 1] = ARGV[i]
	end
	at = at + tonumber(ARGV[1 + k])
	redis.call(unpack(args))
	expireAtLeast(KEYS[k], expiry)
end
return 1
`)

// freeScript frees slots and takes waiters out of the queue: the sure
// slots (ARGV[4..], members known to hold a slot) from the slot set, the
// sure places in line from the queue, and the unsure members (of acquires
// that failed after they may have reached Redis) from both, leaving a
// tombstone for each of those, so that the acquire, should Redis run it
// later, is refused. When that freed a slot or took out the first in line
// while others wait, it wakes those whose turn it is, in the same call. A
// key that is no slot set has nothing to free. It may run out of memory:
// it removes before it adds, and adds only tombstones.
//
// KEYS: the slot set, the queue, the queue's entry ends, the tombstones.
// ARGV[1]: how long a tombstone lasts, in milliseconds; ARGV[2]: how many
// slots follow; ARGV[3]: how many places in line follow them; then the
// slots, the places and the unsure members. Returns how many slots it
// freed.
//
// Cost: 3 for a slot with nobody waiting; with waiters, 4 more and 1 to
// publish; 3 per place in line; 4 per unsure member and 4 for the call.
var freeScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + commonLua + `
local nS, nE = tonumber(ARGV[2]), tonumber(ARGV[3])
local e1, u1 = 4 + nS, 4 + nS + nE
local freed, headLeft = 0, 0
if nS > 0 then
	local r = redis.pcall('ZREM', KEYS[1], unpack(ARGV, 4, e1 - 1))
	if type(r) == 'number' then
		freed = r
	end
end
for i = e1, u1 - 1 do
	headLeft = headLeft + unqueue(ARGV[i])
end
if #ARGV >= u1 then
	local forget = now + tonumber(ARGV[1])
	local tomb = {'ZADD', KEYS[4]}
	for i = u1, #ARGV do
		local r = redis.pcall('ZREM', KEYS[1], ARGV[i])
		if type(r) == 'number' then
			freed = freed + r
		end
		headLeft = headLeft + unqueue(ARGV[i])
		tomb[#tomb + 1] = forget
		tomb[#tomb + 1] = ARGV[i]
	end
	redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
	redis.call(unpack(tomb))
	expireAtLeast(KEYS[4], forget)
end
if freed + headLeft > 0 and redis.call('ZCARD', KEYS[2]) > 0 then
	dropLapsed()
	wake(redis.pcall('ZCOUNT', KEYS[1], '(' .. now, '+inf'))
end
return freed
`)

// renewWaitersScript renews the entries of one instance's waiters of one
// key, up to batchSize per call, then drops the waiters of any instance
// whose entry has ended. A waiter still in the queue keeps its place even
// if its entry ended (a Redis stall longer than the entry TTL) and no
// script has dropped it yet; one no longer in the queue is not added: it
// joins again, at the back, on its next try. When it drops lapsed waiters
// of a queue that others still wait in, it wakes those whose turn it is.
// It may run out of memory: it adds nothing.
//
// KEYS: the slot set, the queue, the queue's entry ends, the tombstones
// (not touched). ARGV[1]: entry TTL in milliseconds; ARGV[2..]: member ids.
// Returns the member ids no longer in the queue.
//
// Cost: 8 per key, whatever the number of its waiters here.
var renewWaitersScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + commonLua + `
local lost = {}
local ends = now + tonumber(ARGV[1])
local scores = redis.call('ZMSCORE', KEYS[2], unpack(ARGV, 2))
local args = {'ZADD', KEYS[3]}
for i = 2, #ARGV do
	if scores[i - 1] then
		args[#args + 1] = ends
		args[#args + 1] = ARGV[i]
	else
		lost[#lost + 1] = ARGV[i]
	end
end
if #args > 2 then
	redis.call(unpack(args))
	expireAtLeast(KEYS[2], ends)
	expireAtLeast(KEYS[3], ends)
end
if dropLapsed() > 0 then
	wake(holders())
end
return lost
`)

// inUseScript counts the members whose lease has not ended by Redis time.
// It writes nothing, and runs while Redis is out of memory.
//
// KEYS[1]: the slot set. Returns the count. Cost: 3.
var inUseScript = redis.NewScript("#!lua flags=no-writes,allow-oom" + nowMs + `
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

// loadScript counts, for each of many keys, the members whose lease has
// not ended and the waiters whose entry has not ended, by Redis time. It
// writes nothing, and runs while Redis is out of memory. A key that fails
// (it is no sorted set) answers for itself, and the others still count.
//
// KEYS: for each key, its slot set and its queue's entry ends. Returns, for
// each key, {holders, waiters}, or {-1, Redis's error}.
//
// Cost: 2 for the call, 2 per key.
var loadScript = redis.NewScript("#!lua flags=no-writes,allow-oom" + nowMs + `
local out = {}
local after = '(' .. now
for k = 1, #KEYS, 2 do
	local held = redis.pcall('ZCOUNT', KEYS[k], after, '+inf')
	local waiting = redis.pcall('ZCOUNT', KEYS[k + 1], after, '+inf')
	if type(held) ~= 'number' then
		out[#out + 1], out[#out + 2] = -1, held.err
	elseif type(waiting) ~= 'number' then
		out[#out + 1], out[#out + 2] = -1, waiting.err
	else
		out[#out + 1], out[#out + 2] = held, waiting
	end
end
return out
`)

// batchSize is the most member ids passed to one script call: Lua's unpack
// and a single Redis call both suffer with tens of thousands of arguments,
// and a long script blocks Redis for everyone.
const batchSize = 500

// A call is one script run.
type call struct {
	script *redis.Script
	keys   []string // KEYS
	args   []any
}

// evalAll runs every call in one pipeline, one round trip whatever their
// number, and returns a command per call. A pipelined EVALSHA gets no EVAL
// fallback from go-redis, so when Redis answers NOSCRIPT (its script cache
// was emptied by a restart or SCRIPT FLUSH), evalAll loads the scripts
// again and sends the failed calls once more.
func evalAll(ctx context.Context, c redis.UniversalClient, calls []call) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 1 {
		cmds[0] = calls[0].script.Run(ctx, c, calls[0].keys, calls[0].args...)
		return cmds
	}
	send := func(idx []int) {
		pipe := c.Pipeline()
		for _, i := range idx {
			cmds[i] = calls[i].script.EvalSha(ctx, pipe, calls[i].keys, calls[i].args...)
		}
		_, _ = pipe.Exec(ctx) // each command carries its own error
	}
	all := make([]int, len(calls))
	for i := range all {
		all[i] = i
	}
	send(all)
	var again []int
	loaded := make(map[*redis.Script]error)
	for i, cmd := range cmds {
		if !isNoScript(cmd.Err()) {
			continue
		}
		s := calls[i].script
		err, done := loaded[s]
		if !done {
			err = s.Load(ctx, c).Err()
			loaded[s] = err
		}
		if err != nil {
			cmds[i] = redis.NewCmd(ctx)
			cmds[i].SetErr(err)
			continue
		}
		again = append(again, i)
	}
	if len(again) > 0 {
		send(again)
	}
	return cmds
}

// isNoScript reports whether err is Redis's NOSCRIPT, as go-redis gives it
// either normalized or raw.
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}
