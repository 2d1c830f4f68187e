package redisslot

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// maxCarried is the most pending frees of its key an acquire carries.
const maxCarried = 64

// A freeKind says what a pending free must undo, and how sure that is. It
// indexes a freeBatch's ids, in the order of the free script's arguments.
type freeKind uint8

const (
	freeSlot  freeKind = iota // a member that held a slot, confirmed by Redis
	freeEntry                 // a waiter's place in line, which holds no slot
	// freeUnsure: a member whose acquire failed or timed out, or a slot
	// taken from the fallback share (see holding.freeKind): its script may
	// yet run (a command written before a stall runs when Redis resumes), so
	// its free also leaves a tombstone that refuses it.
	freeUnsure
)

// pendingFrees holds the members a Limiter must remove from Redis and has
// not seen removed: released, lost and closed slots, places of waiters that
// left, acquires that failed after they may have reached Redis. Each goes
// with the next acquire of its key here or the renewer's sends (at once,
// then every round), and is forgotten only once a call that carried it
// succeeds, however long Redis is away. While one call carries it (in
// flight), no other does; an acquire of its key still removes it, so as not
// to be refused for want of it, but does not settle it. There are at most
// the slots held when Redis went away plus one acquire per pool connection
// per client timeout since. Nobody waits for a free.
//
// Its mu guards byKey, n and their entries; kick runs with no lock held.
type pendingFrees struct {
	kick func() // wakes the sender: new frees to send

	mu    sync.Mutex
	byKey map[string]*pendingKey // by the name of the key's slot set
	n     int                    // frees pending
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
	sent     bool // a call has carried it (an acquire Redis refused whole does not count)
	// acquire: an unsure member of an acquire call, whose copy run late
	// admits only within the limit (not a fallback slot, whose adoption
	// writes it whatever the limit): an acquire may remove it (see carry).
	acquire bool
}

func newPendingFrees(kick func()) *pendingFrees {
	return &pendingFrees{kick: kick, byKey: make(map[string]*pendingKey)}
}

// add records a member to free and, unless later (the caller kicks or hands
// the free to a waiter), kicks the sender. A repeat keeps the surer kind.
func (f *pendingFrees) add(ref *keyRef, member string, kind freeKind, later bool) {
	f.put(ref, member, pendingFree{kind: kind}, later)
}

// addUnsureAcquire records the unsure member of an acquire call that failed
// or was admitted too late, and kicks the sender.
func (f *pendingFrees) addUnsureAcquire(ref *keyRef, member string) {
	f.put(ref, member, pendingFree{kind: freeUnsure, acquire: true}, false)
}

// put records the free of member as add does, its kind and origin from add.
func (f *pendingFrees) put(ref *keyRef, member string, add pendingFree, later bool) {
	f.mu.Lock()
	pk := f.byKey[ref.rkey()]
	if pk == nil {
		pk = &pendingKey{ref: ref, members: make(map[string]pendingFree)}
		f.byKey[ref.rkey()] = pk
	}
	p, ok := pk.members[member]
	if !ok {
		f.n++
	}
	p.kind, p.acquire = max(p.kind, add.kind), p.acquire || add.acquire
	pk.members[member] = p
	f.mu.Unlock()
	if !later {
		f.kick()
	}
}

// A carriage is what one acquire of a key removes first. own it carries
// for good, marked in flight; onTheWay it removes and does not settle: the
// frees in flight in other calls, and unsure members of acquires, each
// named both as a slot and as a place. Each list holds slots, then places
// in line (ownPlaces and wayPlaces of them).
type carriage struct {
	own, onTheWay        []string
	ownPlaces, wayPlaces int
}

// args appends the acquire script's ARGV[7] and after (see acquireScript):
// how many slots it carries for good, how many places end the list, then
// the slots, own first, and the places.
func (c *carriage) args(dst []any) []any {
	slots := len(c.own) - c.ownPlaces
	dst = append(dst, slots, c.ownPlaces+c.wayPlaces)
	for _, ids := range [][]string{c.own[:slots], c.onTheWay[:len(c.onTheWay)-c.wayPlaces], c.own[slots:], c.onTheWay[len(c.onTheWay)-c.wayPlaces:]} {
		for _, m := range ids {
			dst = append(dst, m)
		}
	}
	return dst
}

// carry returns what an acquire of the key at rkey removes first: up to
// maxCarried slots and places in line not in flight, up to maxCarried in
// flight in other calls, and up to maxCarried/2 unsure members of acquires
// (each is named twice). It leaves those to their frees, which leave a
// tombstone each: a copy of their acquire run after the carry admits only
// within the limit, and that free undoes it. The unsure members of fallback
// slots it leaves alone: a late copy of an adoption writes its member
// whatever the limit, so that slot's room is not taken before its free
// lands. So a release, a waiter leaving, or an acquire cut short, followed
// at once by an acquire of its key here is not refused for want of that
// free, and the key never counts more than its limit.
func (f *pendingFrees) carry(rkey string) (c carriage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pk := f.byKey[rkey]
	if pk == nil {
		return c
	}
	var ownPlaces, wayPlaces []string
	unsure, away := 0, 0 // unsure members of acquires and frees in flight named in onTheWay
	for m, p := range pk.members {
		switch {
		case p.kind == freeUnsure && p.acquire && unsure < maxCarried/2:
			unsure++
			c.onTheWay, wayPlaces = append(c.onTheWay, m), append(wayPlaces, m)
		case p.kind == freeUnsure:
		case !p.inFlight && len(c.own)+len(ownPlaces) < maxCarried:
			p.inFlight, p.sent = true, true
			pk.members[m] = p
			c.own, ownPlaces = appendKind(c.own, ownPlaces, p.kind, m)
		case p.inFlight && away < maxCarried:
			away++
			c.onTheWay, wayPlaces = appendKind(c.onTheWay, wayPlaces, p.kind, m)
		}
	}
	c.own, c.ownPlaces = append(c.own, ownPlaces...), len(ownPlaces)
	c.onTheWay, c.wayPlaces = append(c.onTheWay, wayPlaces...), len(wayPlaces)
	return c
}

// appendKind appends m to slots or to places, as kind says.
func appendKind(slots, places []string, kind freeKind, m string) ([]string, []string) {
	if kind == freeEntry {
		return slots, append(places, m)
	}
	return append(slots, m), places
}

// carried forgets the frees an acquire carried if ok, else waits them again;
// if unsent (the acquire was refused whole, it never ran, or its caller's
// ctx ended, so that no waiter's try is left to carry them), as frees never
// sent, which a kick sends at once.
func (f *pendingFrees) carried(rkey string, ids []string, ok, unsent bool) {
	if len(ids) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if pk := f.byKey[rkey]; pk != nil {
		f.settleLocked(pk, ids, ok, unsent)
	}
}

// settleLocked forgets ids of pk when ok, or marks them not in flight (and,
// if unsent, never sent).
func (f *pendingFrees) settleLocked(pk *pendingKey, ids []string, ok, unsent bool) {
	for _, m := range ids {
		p, held := pk.members[m]
		switch {
		case !held:
		case ok:
			delete(pk.members, m)
			f.n--
		default:
			p.inFlight, p.sent = false, p.sent && !unsent
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
	ref *keyRef
	ids [3][]string // by freeKind
}

func (b *freeBatch) len() int { return len(b.ids[0]) + len(b.ids[1]) + len(b.ids[2]) }

// take marks in flight and returns, in batches, the frees not in flight (if
// fresh, never sent); with all, for Close, every one, and forgets them.
func (f *pendingFrees) take(fresh, all bool) []freeBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	var batches []freeBatch
	for _, pk := range f.byKey {
		b := freeBatch{ref: pk.ref}
		for m, p := range pk.members {
			if !all && (p.inFlight || fresh && p.sent) {
				continue
			}
			p.inFlight, p.sent = true, true
			pk.members[m] = p
			b.ids[p.kind] = append(b.ids[p.kind], m)
			if b.len() == batchSize {
				batches = append(batches, b)
				b = freeBatch{ref: pk.ref}
			}
		}
		if b.len() > 0 {
			batches = append(batches, b)
		}
	}
	if all {
		f.byKey, f.n = make(map[string]*pendingKey), 0
	}
	return batches
}

// settle settles what take returned: ok[i] says whether batch i got through.
func (f *pendingFrees) settle(batches []freeBatch, ok []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, b := range batches {
		if pk := f.byKey[b.ref.rkey()]; pk != nil {
			for _, ids := range b.ids {
				f.settleLocked(pk, ids, ok[i], false)
			}
		}
	}
}

func (f *pendingFrees) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func freeCalls(calls []call, batches []freeBatch, tombArg any) []call {
	for _, b := range batches {
		args := make([]any, 0, 3+b.len())
		args = append(args, tombArg, len(b.ids[freeSlot]), len(b.ids[freeEntry]))
		for _, ids := range b.ids {
			for _, m := range ids {
				args = append(args, m)
			}
		}
		calls = append(calls, call{script: freeScript, keys: b.ref.keys(), args: args})
	}
	return calls
}

// freeMovedHolders does the slot-set part of each free call answered
// TRYAGAIN (cmds[i] answers batches[i]) while its batch is still in
// flight: a resharding has the key's hash slot open, and its node lacks
// some of the keys the free script names (often the queue and the
// tombstones, which exist only while in use). One ZREM naming the slot set
// alone removes the batch's holders, its slots and unsure members; go-redis
// sends it as any one-key command, following an ASK to the target if the
// key has moved. So a released slot is free at once, not when the move ends.
//
// It leaves undone what needs the other keys: places taken out of the
// queue, the tombstones of unsure members, the wake-up of the waiters whose
// turn it is. The caller settles the free as failed: it stays pending and
// is sent whole each round until Redis runs it, its ZREM again with it
// meanwhile, which changes nothing more (at Close, it is reported). That is
// safe. A ZREM grants no slot, so none is granted twice; an unsure member's
// acquire that runs before its tombstone is undone by the later free, as
// without the ZREM. That free finds the holders gone and wakes nobody: a
// waiter whose turn it is wakes by its own retry timer or at the next free
// of its key.
func freeMovedHolders(ctx context.Context, c redis.UniversalClient, batches []freeBatch, cmds []*redis.Cmd) {
	var pipe redis.Pipeliner
	for i, b := range batches {
		n := len(b.ids[freeSlot]) + len(b.ids[freeUnsure])
		if n == 0 || !tryAgain(cmds[i].Err()) {
			continue
		}
		holders := make([]any, 0, n)
		for _, ids := range [][]string{b.ids[freeSlot], b.ids[freeUnsure]} {
			for _, m := range ids {
				holders = append(holders, m)
			}
		}
		if pipe == nil {
			pipe = c.Pipeline()
		}
		pipe.ZRem(ctx, b.ref.rkey(), holders...)
	}
	if pipe != nil {
		_, _ = pipe.Exec(ctx) // whatever they answer, the frees stay as they are
	}
}
