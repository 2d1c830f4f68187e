package redisslot

import (
	"math"
	"sync"
)

// A noScriptRound is what a round hears of its calls answered NOSCRIPT (see
// evalAll), its renewals being its first calls. Redis may be a promoted
// replica, behind a proxy that kept the connections, which missed the last
// writes: a renewal, an acquire. At the first such call it forgets (the
// renewals built before confirm no lease) and marks a look for lost slots
// (see roundAsks), as the round is one. The round confirms what Redis
// answers to the renewals sent again, after the forget, and nothing of
// those answered before it: they were built before it. A slot held since
// the round was built is in none of its calls, and its acquire may have
// read the looks before the mark: the round asks a round for it (see
// heldSince).
//
// Its mu guards forgot, after and again: the calls of each master may be
// heard on a goroutine of their own (see evalByMaster).
type noScriptRound struct {
	clock     *leaseClock
	asks      *roundAsks
	renewals  []renewal
	adoptions []renewal
	built     uint64 // the clock's epoch when the round was built
	mu        sync.Mutex
	after     uint64 // the epoch after the forget, once forgot
	forgot    bool
	again     []bool // by renewal: sent again
}

// heard hears that call i was answered NOSCRIPT, before it is sent again.
func (n *noScriptRound) heard(i int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.forgot {
		n.forgot, n.after = true, n.clock.forget()
		n.asks.mark()
		n.again = make([]bool, len(n.renewals))
	}
	if i < len(n.renewals) {
		n.again[i] = true
	}
}

// epochOf returns the epoch in which renewal i was sent, for the clock to
// confirm it in.
func (n *noScriptRound) epochOf(i int) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.forgot && n.again[i] {
		return n.after
	}
	return n.built
}

// epoch returns the epoch in which the calls sent last were sent.
func (n *noScriptRound) epoch() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.forgot {
		return n.after
	}
	return n.built
}

// heldSince reports whether the clock holds, with a lease, a slot that none
// of the round's calls names: one held since the round was built. It walks
// every slot held, once for a round answered NOSCRIPT.
func (n *noScriptRound) heldSince() bool {
	named := make(map[*holding]bool)
	for _, rcs := range [][]renewal{n.renewals, n.adoptions} {
		for _, rc := range rcs {
			for _, s := range rc.slots {
				named[s] = true
			}
		}
	}
	for _, s := range n.clock.leased(math.MaxInt) {
		if !named[s] {
			return true
		}
	}
	return false
}
