package redisslot

import "sync"

// The pending frees: members a Limiter has to remove from Redis and has not
// yet seen removed. A release, a lost slot, a waiter that leaves, a failed
// acquire and Close put members here; they go to Redis carried by the next
// acquire of their key, or sent by the Limiter's renewer, at once and with
// every renewal round, until a call that carried them succeeds. No caller
// ever waits for a free, and no goroutine is started for one.
//
// A free is in flight while one call carries it: no other call sends it
// then, and once that call succeeds every holder of it forgets it. One
// that failed goes back to waiting. A pending free is forgotten only when
// Redis confirmed it: however long Redis is unreachable, nothing is lost.
// Their number is bounded by what can need freeing while Redis does not
// answer: the slots held when it stopped answering, and the acquires sent
// since that may have reached it (at most as many, per timeout of the
// client, as its pool has connections).

// maxCarried is the most pending frees of its key an acquire carries.
const maxCarried = 64

// A freeKind says what a pending free must undo, and how sure that is.
type freeKind uint8

const (
	// freeSlot: a member that held a slot, confirmed by Redis.
	freeSlot freeKind = iota
	// freeEntry: a waiter's place in line, which holds no slot.
	freeEntry
	// freeUnsure: a member whose acquire failed or timed out: its script
	// may yet run (a command written before a stall runs when Redis
	// resumes), so the free also leaves a tombstone that refuses it.
	freeUnsure
)

// pendingFrees holds a Limiter's pending frees. Its mu guards byKey and n,
// and the entries within; kick runs with no lock held.
type pendingFrees struct {
	kick func() // wakes the sender: new frees to send

	mu    sync.Mutex
	byKey map[string]*pendingKey // by the name of the key's slot set
	n     int
}

// A pendingKey is the pending frees of one key. It stays, empty, until the
// next sweep, so that a key freed and used again at once costs no new map.
type pendingKey struct {
	ref     *keyRef
	members map[string]pendingFree // by member id
}

// A pendingFree is one member to remove.
type pendingFree struct {
	kind     freeKind
	inFlight bool // a call carrying it has not returned yet
	sent     bool // a call has carried it at least once
}

func newPendingFrees(kick func()) *pendingFrees {
	return &pendingFrees{kick: kick, byKey: make(map[string]*pendingKey)}
}

// add records a member to free, and kicks the sender unless later is set
// (a waiter will carry it; if it does not, it calls kick itself). A member
// already pending keeps the surer kind of the two.
func (f *pendingFrees) add(ref *keyRef, member string, kind freeKind, later bool) {
	f.mu.Lock()
	pk := f.byKey[ref.rkey()]
	if pk == nil {
		pk = &pendingKey{ref: ref, members: make(map[string]pendingFree)}
		f.byKey[ref.rkey()] = pk
	}
	if p, ok := pk.members[member]; ok {
		p.kind = max(p.kind, kind)
		pk.members[member] = p
	} else {
		pk.members[member] = pendingFree{kind: kind}
		f.n++
	}
	f.mu.Unlock()
	if !later {
		f.kick()
	}
}

// carry returns the pending frees of the key at rkey that an acquire can
// carry, up to maxCarried slots not in flight, which it marks in flight;
// and up to maxCarried slots whose frees are in flight in other calls,
// which the acquire does not count as held.
func (f *pendingFrees) carry(rkey string) (carried, onTheWay []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pk := f.byKey[rkey]
	if pk == nil {
		return nil, nil
	}
	for m, p := range pk.members {
		switch {
		case p.kind != freeSlot:
		case !p.inFlight && len(carried) < maxCarried:
			p.inFlight, p.sent = true, true
			pk.members[m] = p
			carried = append(carried, m)
		case p.inFlight && len(onTheWay) < maxCarried:
			onTheWay = append(onTheWay, m)
		}
	}
	return carried, onTheWay
}

// carried settles the frees an acquire carried: forgotten when its call
// succeeded, else waiting again.
func (f *pendingFrees) carried(rkey string, ids []string, ok bool) {
	if len(ids) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if pk := f.byKey[rkey]; pk != nil {
		f.settleLocked(pk, ids, ok)
	}
}

// settleLocked forgets ids of pk when ok, or marks them not in flight.
func (f *pendingFrees) settleLocked(pk *pendingKey, ids []string, ok bool) {
	for _, m := range ids {
		p, held := pk.members[m]
		switch {
		case !held:
		case ok:
			delete(pk.members, m)
			f.n--
		default:
			p.inFlight = false
			pk.members[m] = p
		}
	}
}

// sweep forgets the keys left with no pending free since the last sweep.
func (f *pendingFrees) sweep() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for rkey, pk := range f.byKey {
		if len(pk.members) == 0 {
			delete(f.byKey, rkey)
		}
	}
}

// A freeBatch is one free call: up to batchSize members of one key.
type freeBatch struct {
	ref                    *keyRef
	slots, entries, unsure []string
}

func (b *freeBatch) len() int { return len(b.slots) + len(b.entries) + len(b.unsure) }

// take returns, in batches, the pending frees not in flight (when fresh,
// only those never sent), and marks them in flight.
func (f *pendingFrees) take(fresh bool) []freeBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	var batches []freeBatch
	for _, pk := range f.byKey {
		b := freeBatch{ref: pk.ref}
		for m, p := range pk.members {
			if p.inFlight || (fresh && p.sent) {
				continue
			}
			p.inFlight, p.sent = true, true
			pk.members[m] = p
			b.add(m, p.kind)
			if b.len() == batchSize {
				batches = append(batches, b)
				b = freeBatch{ref: pk.ref}
			}
		}
		if b.len() > 0 {
			batches = append(batches, b)
		}
	}
	return batches
}

func (b *freeBatch) add(member string, kind freeKind) {
	switch kind {
	case freeSlot:
		b.slots = append(b.slots, member)
	case freeEntry:
		b.entries = append(b.entries, member)
	default:
		b.unsure = append(b.unsure, member)
	}
}

// settle settles the batches that take returned: ok[i] says whether the
// call of batch i succeeded.
func (f *pendingFrees) settle(batches []freeBatch, ok []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range batches {
		pk := f.byKey[b.ref.rkey()]
		if pk == nil {
			continue
		}
		for _, ids := range [][]string{b.slots, b.entries, b.unsure} {
			f.settleLocked(pk, ids, ok[i])
		}
	}
}

// takeAll returns every pending free, in flight or not, and forgets them
// all: for Close, after which nothing else sends them.
func (f *pendingFrees) takeAll() []freeBatch {
	f.mu.Lock()
	for _, pk := range f.byKey {
		for m, p := range pk.members {
			p.inFlight = false
			pk.members[m] = p
		}
	}
	f.mu.Unlock()
	batches := f.take(false)
	f.mu.Lock()
	f.byKey, f.n = make(map[string]*pendingKey), 0
	f.mu.Unlock()
	return batches
}

// len returns how many frees are pending.
func (f *pendingFrees) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// call returns the free call of b. tombArg is how long a tombstone lasts,
// in milliseconds.
func (b *freeBatch) call(tombArg any) call {
	args := make([]any, 0, 3+b.len())
	args = append(args, tombArg, len(b.slots), len(b.entries))
	for _, ids := range [][]string{b.slots, b.entries, b.unsure} {
		for _, m := range ids {
			args = append(args, m)
		}
	}
	return call{script: freeScript, keys: b.ref.keys(), args: args}
}
