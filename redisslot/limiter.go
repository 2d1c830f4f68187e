package redisslot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/ctxguard/release/slots"
	"github.com/redis/go-redis/v9"
)

// A Limiter hands out concurrency slots shared by every Limiter, on any
// instance, that uses the same Redis and Prefix: no more than limit holders
// hold a key at any time, as long as their leases are renewed.
//
// A held slot, a release, a waiter and a failed call cost no goroutine: one
// goroutine renews a Limiter's slots, another sends its frees, another
// renews its waiters' places in line, each running only while it has work;
// one timer keeps the slots' deadlines; at most one pub/sub connection,
// with the goroutine that reads it, opened by the first slot or the first
// Acquire that waits, wakes the waiters and hears of a Redis restart; and
// while a restart message goes out (see the package documentation), one
// goroutine sends it. On a Redis Cluster, a round and the frees call each
// master on a goroutine of their own while the calls are out, a master
// thought out of reach is checked on one, and New starts one that asks the
// client for the masters (see New).
//
// Make a Limiter with New; its zero value is not usable, and it must not be
// copied. It is safe for concurrent use. Call Close when done with it, to
// free its slots and stop its goroutines.
type Limiter struct {
	client  redis.UniversalClient
	set     settings
	members memberIDs

	// The parts, each with its own lock, given what they need: none calls
	// back into the Limiter but through the funcs it was given.
	clock   *leaseClock
	frees   *pendingFrees
	renewer *renewer
	waiting *waiting
	entries *entryRenewer
	sub     *subscriber
	trouble trouble
	health  health
	reach   *nodeReach // on a cluster, the masters out of reach
	emit    emitter
	fb      fallback
	lines   movingLines // keys' lines moving between Redis and the share
	asks    roundAsks   // the looks for lost slots (see attempt.keep)

	released func(*holding)     // a slot's end on release: l.freeReleased, made once
	bg       context.Context    // bounds background calls; ended by Close
	stopBg   context.CancelFunc // ends bg
	closing  chan struct{}      // closed when Close starts

	// mu guards closed; calls counts the calls in flight, and is added to
	// only with mu held and closed false.
	mu     sync.Mutex
	closed bool
	calls  sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// New returns a Limiter that keeps its slots in Redis through client: a
// single node, a failover or a Redis Cluster client. Each Redis call is
// bounded by its ctx only if client has ContextTimeoutEnabled set, else by
// the client's own timeouts and retries (see the package documentation).
// New sends nothing to Redis itself; on a Redis Cluster client it starts a
// goroutine, which Close waits for, that asks the client for the masters,
// and the client loads its view of the cluster (CLUSTER SLOTS) if it has
// none. It panics, with a message starting "redisslot:", if client is nil
// (or a nil pointer of a client type), if opts.Lease or opts.ReleaseTimeout
// is set below 100ms, if opts.MaxWaiters is negative, or if opts.Prefix
// makes an empty hash tag.
func New(client redis.UniversalClient, opts Options) *Limiter {
	if client == nil {
		panic("redisslot: New called with a nil client")
	}
	if v := reflect.ValueOf(client); v.Kind() == reflect.Pointer && v.IsNil() {
		panic(fmt.Sprintf("redisslot: New called with a nil %T", client))
	}
	l := &Limiter{client: client, set: opts.settings(), members: memberIDs{instance: newInstanceID()}, closing: make(chan struct{})}
	l.bg, l.stopBg = context.WithCancel(context.Background())
	l.released = l.freeReleased
	l.clock = newLeaseClock(l.set.life, func(ended []*holding) {
		l.lost(ended, "no renewal confirmed within "+l.set.life.String(), true)
	}, func(s *holding) { l.frees.add(s.ref, s.member, s.freeKind(), true) })
	l.reach = newNodeReach(client, l.bg, func() { l.renewer.roundNow() })
	l.renewer = &renewer{
		client: client, set: &l.set, clock: l.clock, trouble: &l.trouble, emit: &l.emit,
		health: &l.health, reach: l.reach, fb: &l.fb, asks: &l.asks, grouping: groupingOf(client), bg: l.bg,
		lost: func(lost []*holding, why string) { l.lost(lost, why, false) },
		soon: make(chan struct{}, 1), settled: make(chan struct{}, 1),
		readOnly: readOnlyReruns{conns: func() int { return int(client.PoolStats().TotalConns) }},
	}
	pubsub := func(err error) { l.trouble.pubsubFailed(err, l.set.renewEvery, l.set.OnError) }
	l.renewer.tell = &teller{client: client, bg: l.bg, canary: restartChannel, self: l.members.instance,
		every: l.set.renewEvery, report: pubsub}
	l.frees = newPendingFrees(l.renewer.kick)
	l.renewer.frees = l.frees
	l.renewer.send = &freeSender{client: client, frees: l.frees, bg: l.bg, bound: min(l.set.ReleaseTimeout, l.set.renewEvery),
		tombArg: l.set.tombArg, emptied: l.renewer.emptied, settle: l.renewer.settleFrees, settled: l.renewer.settled,
		master: l.reach.masters()}
	l.fb = fallback{share: l.set.Fallback, report: l.set.OnError, lines: &l.lines, down: l.reach.downFunc(),
		lineUp: func() { l.waiting.lineUp(l.lines.front) }}
	l.health.back = func(change uint64) {
		l.fb.answered(change)
		if !l.reach.perMaster() { // on a cluster, the master that failed tells when it is back
			l.renewer.roundNow()
		}
	}
	l.health.lost = l.unreachable
	l.waiting = &waiting{kick: l.renewer.kick, instance: l.members.instance}
	l.entries = &entryRenewer{
		client: client, waiting: l.waiting, trouble: &l.trouble, health: &l.health, bg: l.bg,
		flush: l.renewer.flush, every: l.set.renewEvery,
	}
	l.sub = &subscriber{
		client: client, waiting: l.waiting, bg: l.bg, timeout: l.set.ReleaseTimeout,
		report: pubsub, restart: l.renewer.roundNow, held: l.clock, asks: &l.asks, canary: l.renewer.tell.canary, self: l.members.instance,
	}
	return l
}

// enter counts a call in flight, or reports false if l is closed.
func (l *Limiter) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.calls.Add(1)
	return true
}

// freeReleased is a slot's end on release: unless it was lost or closed,
// its free, made pending by the clock's drop, goes to the key's
// first-in-line waiter here (whose try carries for good only plain frees,
// and leaves a fallback slot alone: see pendingFrees.carry), or is sent at
// once; a fallback slot that no call has offered to Redis needs none.
func (l *Limiter) freeReleased(s *holding) {
	held, fallback, offered := l.clock.drop(s)
	if !held {
		return
	}
	if fallback {
		l.fb.put(s.ref.key)
	} else if s.shared {
		l.fb.adoptedEnded(s.ref.key)
	}
	if offered { // its free is pending: see leaseClock.drop
		if s.freeKind() != freeSlot || !l.waiting.handOff(s.ref.rkey()) {
			l.renewer.kick()
		}
	}
	l.emit.slotEnded(s)
}

// unreachable begins the fallback state, if enabled (each waiter is given
// its turn to go to the share's line), and wakes every waiter.
func (l *Limiter) unreachable(change uint64, err error) {
	if l.fb.enabled() {
		l.fb.enter(change, err)
		l.renewer.wake() // it asks Redis, until it answers, whether it does
		l.waiting.wake("", 1<<30, true)
	}
}

// lost ends slots that lost their lease, for why. Those the clock expired are
// freed too: a renewal Redis has not run yet may still extend them; and so
// are fallback slots, with a tombstone: a copy of their adoption still on
// its way could write them again.
func (l *Limiter) lost(slots []*holding, why string, expired bool) {
	for _, s := range slots { // first, so that every holder hears at once
		s.cancel(ErrLeaseLost)
	}
	freed := false
	for _, s := range slots {
		if s.shared { // adopted: a fallback slot has no lease to lose
			l.fb.adoptedEnded(s.ref.key)
		}
		if expired || s.shared {
			l.frees.add(s.ref, s.member, s.freeKind(), true)
			freed = true
		}
		l.emit.leaseLost(s)
		l.trouble.lost(s.ref.key, why)
	}
	if freed {
		l.renewer.kick()
	}
}

// Stats returns a snapshot of l's counts. It sends nothing to Redis and
// takes a lock only to count the pending frees and, with Options.Fallback,
// to read whether the fallback state is on; it is safe to call at any
// time, from any goroutine, hooks included, and after Close.
func (l *Limiter) Stats() Stats {
	st := l.emit.stats.snapshot(l.frees.len())
	st.Degraded, st.FallbackAcquired = l.fb.degraded(), l.fb.served.Load()
	return st
}

// AddHook adds h to l's hooks. It may be called at any time, from any
// goroutine, and takes effect for events that happen after it returns;
// hooks cannot be removed. A hook added while l holds slots or has
// waiters hears of their ends but not of their starts, so add hooks right
// after New when the hook counts slots or waiters (as redisslototel does).
//
// With no hook added, an event costs l one atomic load, beside the atomic
// add of its Stats counter, and allocates nothing.
func (l *Limiter) AddHook(h Hook) { l.emit.add(h) }

// Close shuts l down, in this order:
//
//   - later calls, and Acquire calls waiting, return ErrClosed; a call in
//     flight returns ErrClosed, its Redis call's error, or a slot whose
//     context has already ended with cause ErrClosed;
//   - the context of every slot l holds is cancelled with cause ErrClosed,
//     and the slot's release then does nothing;
//   - those slots and every free still pending (of released slots and of
//     failed acquires) are freed in Redis in one pipeline, bounded by
//     ReleaseTimeout, one call per key (per few hundred slots of a key);
//   - Close closes l's pub/sub connection, waits for the acquires in
//     flight, ends the fallback state if it is on (OnError hears of it),
//     waits for l's goroutines, then sends, bounded by ReleaseTimeout
//     again, the frees of the acquires that failed or were refused
//     meanwhile;
//   - it returns the failures, joined with [errors.Join], each naming its
//     key; Redis takes back a slot whose free failed when its lease ends.
//     OnError hears of the trouble noted since the last round's report
//     (leases lost, background calls failed), not of the background calls
//     that Close cuts short.
//
// Close does not close the client. It is safe to call more than once and
// from several goroutines: every call returns the first's result once the
// first is done.
func (l *Limiter) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Limiter) close() error {
	l.mu.Lock()
	l.closed = true
	close(l.closing)
	l.mu.Unlock()
	// Their releases now do nothing. Every context ends before any free is sent.
	held := l.clock.stop()
	for _, s := range held {
		s.cancel(ErrClosed)
		l.emit.slotEnded(s)
	}
	for _, s := range held {
		if !s.fallback || s.offered { // no lock: the clock has let go of them
			l.frees.add(s.ref, s.member, s.freeKind(), true)
		}
	}
	errs := l.freeAll()
	l.stopBg()
	l.waiting.close()
	if err := l.sub.stop(); err != nil {
		errs = append(errs, err)
	}
	l.calls.Wait()
	l.fb.stop()
	l.renewer.stop()
	l.entries.stop()
	l.reach.stop()
	// The trouble noted since the last round's report, by either renewer.
	l.renewer.flush()
	errs = append(errs, l.freeAll()...) // acquires that failed meanwhile
	return errors.Join(errs...)
}

// freeAll sends every pending free for Close, and returns the failures.
func (l *Limiter) freeAll() []error {
	batches := l.frees.take(false, true)
	if len(batches) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.set.ReleaseTimeout)
	defer cancel()
	cmds := evalAll(ctx, l.client, freeCalls(nil, batches, l.set.tombArg), nil)
	freeMovedHolders(ctx, l.client, batches, cmds)
	var errs []error
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			b := batches[i]
			errs = append(errs, fmt.Errorf("redisslot: free %d slots of key %s on close: %w", b.len(), quoteKey(b.ref.key), err))
		}
	}
	return errs
}

// memberIDs makes one Limiter's member ids (see Key layout in doc.go); the
// acquire script reads the caller's limit at their end (see fits in lua.go).
type memberIDs struct {
	instance string
	seq      atomic.Uint64
}

func (m *memberIDs) next(limit int) string {
	var buf [64]byte
	b := append(buf[:0], m.instance...)
	b = strconv.AppendUint(b, m.seq.Add(1), 36)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(limit), 10)
	return string(b)
}

// newInstanceID returns a random id, ended by a dash, for memberIDs.
func newInstanceID() string {
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails on supported platforms
	return hex.EncodeToString(id[:]) + "-"
}

// A Limiter is a [slots.Limiter]: a handler written against that interface
// moves from slots.Local to redisslot by changing its constructor.
var _ slots.Limiter = (*Limiter)(nil)
