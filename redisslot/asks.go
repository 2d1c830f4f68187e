package redisslot

import "sync/atomic"

// roundAsks counts the looks for the slots a restart or a failover may have
// lost: each round asked at once for that (renewer.roundNow), each round
// answered NOSCRIPT (noScriptRound), each round run again after READONLY
// (renewer.forgetForRerun), and the canary's first look
// (subscriber.firstConfirmed). An acquire reads it
// before it is sent and again once its slot is held: if it changed, a look
// may have missed the slot, answered by a Redis that the look found
// restarted, and the acquire asks one round more (renewer.lookNow). That
// round forgets nothing and counts as no look, so that the acquires in
// flight meanwhile do not ask again: the asks do not chain.
type roundAsks struct{ n atomic.Uint64 }

// mark records a look, before it looks.
func (a *roundAsks) mark() { a.n.Add(1) }

// count returns the looks so far.
func (a *roundAsks) count() uint64 { return a.n.Load() }
