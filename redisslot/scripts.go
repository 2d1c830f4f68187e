package redisslot

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// The scripts (pieces and key layout: lua.go). Each touches only its KEYS,
// all in one hash slot, and is idempotent per member id: a copy sent again
// (after a timeout, or by a retry) changes nothing more. Costs count the
// commands run inside Redis, EVALSHA and TIME included, in the common case.

// acquireScript takes a slot, in line, after removing the frees the call
// carries (see pendingFrees.carry). A member with a tombstone is refused for
// good, in every mode: a waiter's try too may run after its free (a command
// written before a stall). It admits a queued member when fits says so; a
// new one when nobody waits (mode "try") or as if it had joined at the back;
// one already holding a live slot (an earlier run of this call) again,
// counted once. Any other keeps its place or joins at the back (mode "join"
// within the cap; "wait", its entry gone, whatever the cap); "probe" only
// says it would join. While others wait, freeing slots or places (refused
// or not), dropping waiters whose entry ended or admitting a waiter wakes
// those whose turn it is. Each key written expires no earlier than what was
// written; the slot set of a slot taken, two leases from now.
// Without allow-oom, it is refused whole while Redis is out of memory.
//
// KEYS: slot set, queue, entry ends, tombstones. ARGV: member id, limit,
// lease ms, mode, cap (0: none), entry TTL ms, how many of the slots that
// follow it carries for good (the rest are on their way in other calls,
// or unsure members of acquires), how many places in line end the list;
// the slots, then the places.
// Returns {state, order, rank}: order -1 for a waiter that kept its place;
// a copy of a join gets its member's order, as its first copy did.
//
// A try in mode "wait" reads its rank first and the queue's length only
// when it has no place; a join reads no rank: a copy of a join that
// already queued its member finds it there as it adds it (ZADD NX), and
// keeps its place, and one admitted takes its member out of the queue.
//
// Cost: 7 to admit with nobody waiting (+1 with slots to free, +2 with
// places); first in line taking its slot 10 (+1 to publish); joining behind
// others 12 (+1 with slots to free, +2 to wake); a queued try with no room
// 6 first in line, 7 behind it.
var acquireScript = redis.NewScript(acquireSrc)

// acquireSrc is acquireScript's body, which runOnce sends after a NOSCRIPT.
const acquireSrc = "#!lua" + nowMs + commonLua + `
local member, limit, mode = ARGV[1], tonumber(ARGV[2]), ARGV[4]
local lastSlot = #ARGV - tonumber(ARGV[8])
local freed = 0 -- slots and places freed
if lastSlot >= 9 then
	freed = redis.call('ZREM', KEYS[1], unpack(ARGV, 9, lastSlot))
end
if lastSlot < #ARGV then
	freed = freed + redis.call('ZREM', KEYS[2], unpack(ARGV, lastSlot + 1, #ARGV))
	redis.call('ZREM', KEYS[3], unpack(ARGV, lastSlot + 1, #ARGV))
end
if redis.call('ZSCORE', KEYS[4], member) then
	if freed > 0 and redis.call('ZCARD', KEYS[2]) > 0 then
		dropLapsed()
		wake(holders())
	end
	return {5, 0, 0}
end
local held = holders()
-- rank: the member's place in line (false: none); waiters: the line's
-- length, read only when the member has no place (false until then).
local rank, waiters = false, false
if mode == 'wait' then
	rank = redis.call('ZRANK', KEYS[2], member)
end
if not rank then
	waiters = redis.call('ZCARD', KEYS[2])
	if waiters > 0 and mode == 'probe' then
		rank = redis.call('ZRANK', KEYS[2], member)
	end
end
local dropped = 0
if rank ~= 0 and (rank or waiters > 0) then
	dropped = dropLapsed()
end
if dropped > 0 then
	if rank then
		rank = redis.call('ZRANK', KEYS[2], member)
	end
	if not rank then
		waiters = redis.call('ZCARD', KEYS[2])
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
	local keep = now + 2 * tonumber(ARGV[3]) -- two leases: see renewScript
	if held == 0 then
		redis.call('PEXPIREAT', KEYS[1], keep)
	else
		redis.call('PEXPIREAT', KEYS[1], keep, 'GT')
	end
	if rank then
		redis.call('ZREM', KEYS[2], member)
		redis.call('ZREM', KEYS[3], member)
		wake(held + 1) -- those behind it whose turn it is; none if none wait
	else
		if mode == 'join' and waiters > 0 and redis.call('ZREM', KEYS[2], member) > 0 then
			redis.call('ZREM', KEYS[3], member) -- a copy of a join that queued it
			waiters = waiters - 1
		end
		if waiters > 0 and (freed > 0 or dropped > 0) then
			wake(held + 1)
		end
	end
	return {1, 0, 0}
end
if (freed > 0 or dropped > 0) and (rank or waiters > 0) then
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
	local queued = redis.call('ZRANK', KEYS[2], member) -- a copy of a join that queued it
	if queued then
		return {2, tonumber(redis.call('ZSCORE', KEYS[2], member)), queued}
	end
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
if redis.call('ZADD', KEYS[2], 'NX', order, member) == 0 then
	-- a copy of a join that queued it: its place, for the caller's local line
	return {2, tonumber(redis.call('ZSCORE', KEYS[2], member)), redis.call('ZRANK', KEYS[2], member)}
end
redis.call('ZADD', KEYS[3], ends, member)
if waiters == 0 then
	redis.call('PEXPIREAT', KEYS[2], ends)
	redis.call('PEXPIREAT', KEYS[3], ends)
end
return {2, order, waiters}
`

// The states the acquire script answers with, and its modes.
const (
	stateFull      = 0 // mode "try": no slot for this caller
	stateAdmitted  = 1 // the member holds a slot
	stateQueued    = 2 // the member waits in line
	stateQueueFull = 3 // the queue is at its cap
	stateWouldJoin = 4 // mode "probe": the member would join the queue
	stateGone      = 5 // the member was freed before this call ran

	modeTry   = "try"
	modeJoin  = "join"
	modeProbe = "probe"
	modeWait  = "wait"
)

// renewScript extends the leases of up to batchSize members of many keys:
// it drops the members whose lease has ended, then updates those left (ZADD
// XX GT). It adds nothing, so it may run out of memory, and a member that
// lapsed or vanished (freed from outside, lost in a restart) stays gone, as
// do all the members of a key that is no slot set (WRONGTYPE). Each key,
// as after an acquire, lives at least two leases from now, a lease longer
// than any member it extends. Every write that sets a lease (an adoption
// too) keeps its key alive at least as long, so any copy of a key that has
// a lease outlives it: on a replica that missed writes, promoted by a
// failover that nothing tells of, or in a snapshot a restart restores.
//
// KEYS: the slot sets. ARGV: lease ms; how many member ids of each key
// follow; the member ids, key by key. Returns the ids not extended: lost.
// Cost: 2 for the call, 3 per key, 1 more for a key with a member missing.
var renewScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + `
local lease = tonumber(ARGV[1])
local expiry = now + lease
local lost = {}
local at = 2 + #KEYS
for k = 1, #KEYS do
	local n = tonumber(ARGV[1 + k])
	local last = at + n - 1
	-- A key that is no sorted set fails here (all its members are lost), or never.
	if type(redis.pcall('ZREMRANGEBYSCORE', KEYS[k], '-inf', now)) ~= 'number' then
		for i = at, last do
			lost[#lost + 1] = ARGV[i]
		end
	else
		local changed
		if n == 1 then
			changed = redis.call('ZADD', KEYS[k], 'XX', 'GT', 'CH', expiry, ARGV[at])
		else
			local args = {'ZADD', KEYS[k], 'XX', 'GT', 'CH'}
			for i = at, last do
				args[#args + 1] = expiry
				args[#args + 1] = ARGV[i]
			end
			changed = redis.call(unpack(args))
		end
		if changed < n then
			local scores = redis.call('ZMSCORE', KEYS[k], unpack(ARGV, at, last))
			for j = 1, n do
				if not scores[j] then
					lost[#lost + 1] = ARGV[at + j - 1]
				end
			end
		end
		redis.call('PEXPIREAT', KEYS[k], now + 2 * lease, 'GT')
	end
	at = last + 1
end
return lost
`)

// adoptScript writes fallback slots (see Options.Fallback) into their slot
// sets, whatever the limit, with a lease from now, so that admissions count
// them; a member with a tombstone (a fallback slot freed while a copy of
// its adoption was on its way) is left out. They are live, so it may run
// out of memory. A key that is no slot set (WRONGTYPE), or whose
// tombstones are no sorted set, takes none: its members are lost, as a
// renewal would find them, and the other keys are written.
//
// KEYS: each key's slot set and tombstones. ARGV as for renewScript: each
// key lives at least a lease from now, as long as the members it writes.
// Returns the ids not written: lost. Cost: 2 for the call, 3 or 4 per key.
var adoptScript = redis.NewScript("#!lua flags=allow-oom" + nowMs + commonLua + `
local expiry = now + tonumber(ARGV[1])
local lost = {}
-- wrongType is true for a WRONGTYPE error reply; any other error ends the call.
local function wrongType(r)
	if type(r) == 'table' and r.err then
		if string.find(r.err, 'WRONGTYPE', 1, true) then
			return true
		end
		error(r)
	end
	return false
end
local at = 2 + #KEYS / 2
for k = 2, #KEYS, 2 do
	local n = tonumber(ARGV[1 + k / 2])
	local gone = redis.pcall('ZMSCORE', KEYS[k], unpack(ARGV, at, at + n - 1))
	local refused = wrongType(gone)
	local args = {'ZADD', KEYS[k - 1]}
	for j = 1, n do
		if refused or not gone[j] then
			args[#args + 1] = expiry
			args[#args + 1] = ARGV[at + j - 1]
		end
	end
	if #args > 2 and (refused or wrongType(redis.pcall(unpack(args)))) then
		for j = 4, #args, 2 do
			lost[#lost + 1] = args[j]
		end
	elseif #args > 2 then
		expireAtLeast(KEYS[k - 1], expiry)
	end
	at = at + n
end
return lost
`)

// freeScript removes slots from the slot set, places from the queue, and
// unsure members (see freeUnsure) from both, with a tombstone each. When
// that freed a slot or took out the first in line while others wait, it
// wakes those whose turn it is. It removes before it adds, and adds only
// tombstones, so it may run out of memory.
//
// KEYS as for acquireScript. ARGV: tombstone life ms, how many slots
// follow, how many places follow them; the slots, the places, the unsure.
// Returns how many slots it freed. Cost: 3 a slot (+4 with waiters, +1 to
// publish); 3 a place; 4 an unsure member, +4 for the call.
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
	-- Tombstones that are no sorted set (WRONGTYPE) are not written: the
	-- scripts that read them refuse the key's members then.
	if type(redis.pcall('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)) == 'number' then
		redis.call(unpack(tomb))
		expireAtLeast(KEYS[4], forget)
	end
end
local waiters = freed + headLeft > 0 and redis.pcall('ZCARD', KEYS[2])
if type(waiters) == 'number' and waiters > 0 then -- not for a queue that is no sorted set
	dropLapsed()
	wake(redis.pcall('ZCOUNT', KEYS[1], '(' .. now, '+inf'))
end
return freed
`)

// renewWaitersScript renews the entries of up to batchSize waiters of one
// key, then drops any waiter whose entry has ended and wakes those whose
// turn it is. A waiter still queued keeps its place even if its entry
// lapsed; one gone is not added (it joins again at the back). It adds
// nothing, so it may run out of memory.
//
// KEYS as for acquireScript. ARGV: entry TTL ms, then member ids. Returns
// the ids no longer queued. Cost: 8 per key, whatever its waiters here.
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

// inUseScript counts the live members of the slot set KEYS[1]. Cost: 3.
var inUseScript = redis.NewScript("#!lua flags=no-writes,allow-oom" + nowMs + `
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`)

// loadScript counts the live holders and waiters of many keys. KEYS: each
// key's slot set and entry ends. Returns, per key, {holders, waiters}, or
// {-1, Redis's error} for a key that is no sorted set.
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

// batchSize is the most member ids (or load keys) passed to one script
// call: unpack fails on tens of thousands, and a long script blocks Redis.
const batchSize = 500

// A call is one script run.
type call struct {
	script *redis.Script
	keys   []string // KEYS
	args   []any
}

// evalAll runs every call in one pipeline and returns a command per call.
// A reply read is kept (see answerKept): on a Redis Cluster, one master
// that does not answer fails only the calls of its keys. A pipelined
// EVALSHA gets no EVAL fallback from go-redis, so the calls answered
// NOSCRIPT are sent once more as EVAL, with their script's body: each
// goes, as its EVALSHA went, to the node that runs it (after a MOVED or an
// ASK too), which keeps the script. noScript, if not nil, hears each of
// those calls by its index before it is sent again, and may change its
// args in place (see isNoScript, onceEmptied).
func evalAll(ctx context.Context, c redis.UniversalClient, calls []call, noScript func(i int)) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 1 { // as Script.Run, which hides the NOSCRIPT
		if cmds[0] = calls[0].script.EvalSha(ctx, c, calls[0].keys, calls[0].args...); isNoScript(cmds[0].Err()) {
			if noScript != nil {
				noScript(0)
			}
			cmds[0] = calls[0].script.Eval(ctx, c, calls[0].keys, calls[0].args...)
		}
		return cmds
	}
	pipe := c.Pipeline()
	for i, cl := range calls {
		cmds[i] = evalShaCmd(ctx, cl.script, cl.keys, cl.args)
		_ = pipe.Process(ctx, answerKept{cmds[i]})
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
	pipe = c.Pipeline()
	again := make(map[int]*redis.Cmd)
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			if noScript != nil {
				noScript(i)
			}
			again[i] = calls[i].script.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
		}
	}
	if len(again) > 0 {
		_, _ = pipe.Exec(ctx)
		for i, cmd := range again {
			cmds[i] = cmd
		}
	}
	return cmds
}

// evalShaCmd returns the command that runs script s by its hash.
func evalShaCmd(ctx context.Context, s *redis.Script, keys []string, args []any) *redis.Cmd {
	a := make([]any, 3+len(keys), 3+len(keys)+len(args))
	a[0], a[1], a[2] = "evalsha", s.Hash(), len(keys)
	for i, k := range keys {
		a[3+i] = k
	}
	cmd := redis.NewCmd(ctx, append(a, args...)...)
	cmd.SetFirstKeyPos(3)
	return cmd
}

// answerKept is a command of a pipeline whose reply, once read, ctx's
// error does not replace: a cluster pipeline some of whose commands a node
// did not answer in time is retried, and when ctx ends in the wait before
// that retry, go-redis sets ctx's error on every command without one,
// those another node, or the same one, answered too. (A command of a
// pipeline carries no deferred batch, so reading its reply does not wait.)
type answerKept struct{ *redis.Cmd }

func (c answerKept) SetErr(e error) {
	if cut := errors.Is(e, context.DeadlineExceeded) || errors.Is(e, context.Canceled); cut && c.Cmd.Val() != nil {
		return
	}
	c.Cmd.SetErr(e)
}

// onceEmptied returns, for evalAll, a func that calls emptied at the first
// call answered NOSCRIPT: the script cache was emptied once for them all.
func onceEmptied(emptied func()) func(int) {
	heard := false
	return func(int) {
		if !heard {
			heard = true
			emptied()
		}
	}
}

// isNoScript reports whether err is Redis's NOSCRIPT: its script cache was
// emptied, by a restart, a failover to a replica or SCRIPT FLUSH. A restart
// or a failover may have lost the slots it held too, with no call failing
// (go-redis drops a dead connection before using it): the caller looks for
// them at once (renewer.emptied) or, for a round, which looks for them
// itself, confirms only the renewals it sends again (noScriptRound).
func isNoScript(err error) bool {
	return errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")
}

// runOnce runs s, whose body is src, as [redis.Script.Run] does, but as a
// sentOnce, which the client's hooks see. The acquire script goes so, since
// Redis may run a first copy late, after the free that undid the slot a
// second copy took; a call whose reply is lost fails instead, and its
// unsure free leaves a tombstone that refuses any copy. On NOSCRIPT (the
// call did not run) it calls emptied (see isNoScript) and sends it again as
// EVAL, as Script.Run does: to the node that runs it, which keeps the
// script.
func runOnce(ctx context.Context, c redis.UniversalClient, s *redis.Script, src string, keys []string, args []any, emptied func()) *redis.Cmd {
	a := make([]any, 3+len(keys), 3+len(keys)+len(args))
	a[0], a[1], a[2] = "evalsha", s.Hash(), len(keys)
	for i, k := range keys {
		a[3+i] = k
	}
	a = append(a, args...)
	for again := false; ; again = true {
		cmd := redis.NewCmd(ctx, a...)
		cmd.SetFirstKeyPos(3)
		_ = c.Process(ctx, sentOnce{cmd})
		if again || !isNoScript(cmd.Err()) {
			return cmd
		}
		if emptied != nil {
			emptied()
		}
		a[0], a[1] = "eval", src
	}
}

// sentOnce is a command that go-redis does not send again after a failed
// attempt, whatever the client's MaxRetries.
type sentOnce struct{ *redis.Cmd }

func (sentOnce) NoRetry() bool { return true }
