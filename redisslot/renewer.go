package redisslot

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A renewer is a Limiter's background goroutine for its slots, running only
// while the clock holds slots, frees are pending, the fallback state is on
// or a restart message is wanted or in flight (only a round sends it).
// Every Lease/3 it runs a round, one pipeline (on a Redis Cluster, one per
// master, sent at once: see evalByMaster): it renews every held slot,
// writes the fallback slots into Redis once it answers, and sends the frees
// not in flight; kicked, it has its sender send at once the frees never
// sent (see freeSender). While Redis is
// down it pings it every probeEvery, and at the first answer to any call it
// runs a round at once, to find the slots a restart lost. A round answered
// READONLY runs again rerunEvery later, as readOnly says.
//
// Its mu guards running and stopped; roundMu makes rounds one at a time.
type renewer struct {
	client   redis.UniversalClient
	set      *settings
	clock    *leaseClock
	frees    *pendingFrees
	trouble  *trouble
	emit     *emitter
	health   *health
	reach    *nodeReach // which cluster masters the calls reach
	fb       *fallback
	grouping int
	bg       context.Context                   // ends when the Limiter closes
	lost     func(lost []*holding, why string) // slots whose members Redis no longer has
	tell     *teller                           // the restart messages (see emptied)
	readOnly readOnlyReruns                    // the goroutine's

	send    *freeSender   // the frees never sent
	soon    chan struct{} // buffered 1: a round now
	settled chan struct{} // buffered 1: the sender settled frees; the goroutine may be idle
	asks    *roundAsks    // marked by each round asked at once to look for lost slots

	onAdopt atomic.Pointer[func()] // tests: between the clock's and the share's count of an adoption

	mu      sync.Mutex
	running bool
	stopped bool
	wg      sync.WaitGroup // the goroutine
	roundMu sync.Mutex
}

// wake starts the goroutine unless it runs.
func (r *renewer) wake() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running && !r.stopped {
		r.running = true
		r.wg.Add(1)
		go r.run()
	}
}

// kick has new frees sent at once, and again each round until Redis
// confirms them.
func (r *renewer) kick() {
	r.wake()
	r.send.kick()
}

// roundNow has a round run at once, if the renewer runs, to look for the
// slots a restart or a failover may have lost: one that does not holds no
// slot to look at, and an acquire in flight asks again (see roundAsks).
func (r *renewer) roundNow() {
	r.clock.forget() // the renewals of a round in flight may be undone too
	r.asks.mark()
	r.lookNow()
}

// forgetForRerun readies a round answered READONLY to run again: a
// failover demoted its master, and the new one may have missed its last
// writes (no NOSCRIPT tells of it when it has the scripts), so the renewals
// built before confirm no lease; it counts as a look.
func (r *renewer) forgetForRerun() {
	r.clock.forget()
	r.asks.mark()
}

// lookNow has a round run at once, if the renewer runs, that neither
// forgets nor counts as a look (see roundAsks).
func (r *renewer) lookNow() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		poke(r.soon)
	}
}

// emptied hears that a call found Redis's script cache emptied (see
// isNoScript): a restart or a failover may have lost slots, of this Limiter
// and of every other on that Redis. It has a round run at once, running
// the renewer if need be, which first has the teller tell the others.
func (r *renewer) emptied() {
	r.tell.want()
	r.wake()
	r.roundNow()
}

// stop waits for the goroutine, and a restart message in flight, to end;
// the Limiter has ended bg.
func (r *renewer) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.wg.Wait()
	r.send.stop()
	r.tell.stop()
}

func (r *renewer) run() {
	defer r.wg.Done()
	t := time.NewTimer(r.set.renewEvery)
	defer t.Stop()
	next := time.Now().Add(r.set.renewEvery)
	var probeAt time.Time
	flushed := time.Now()
	for {
		select {
		case <-r.bg.Done():
			return
		case <-r.soon:
			next = time.Now()
		case <-r.settled:
		case <-t.C:
		}
		ran, rerun := false, false
		if start := time.Now(); !start.Before(next) {
			next = start.Add(r.set.renewEvery)
			if rerun = r.readOnly.again(r.round()); rerun {
				r.forgetForRerun()
				next = time.Now().Add(rerunEvery)
			}
			ran = true
		} else if r.health.isDown() && !start.Before(probeAt) {
			r.health.probe(r.bg, r.client, r.set.probeEvery)
			probeAt = start.Add(r.set.probeEvery)
		}
		// A round's trouble as it ends (runs again after READONLY are one
		// round's); the sender's at least every round interval.
		if ran && !rerun || time.Since(flushed) >= r.set.renewEvery {
			r.flush()
			flushed = time.Now()
		}
		if r.idle() {
			r.flush()
			return
		}
		wait := time.Until(next)
		if r.health.isDown() {
			wait = min(wait, time.Until(probeAt))
		}
		t.Reset(max(wait, 0))
	}
}

// idle reports, and records, that the goroutine stops, having nothing to do.
func (r *renewer) idle() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clock.len() > 0 || r.frees.len() > 0 || r.fb.degraded() || r.tell.busy() {
		return false // a restart message waits for a round: only a round sends it
	}
	r.clock.each(func(*heldKey) {}) // forgets the keys left empty
	r.frees.sweep()
	r.running = false
	select {
	case <-r.soon: // a round asked for slots no longer held
	default:
	}
	return true
}

// flush reports the trouble noted.
func (r *renewer) flush() { r.trouble.flush(r.set.OnError) }

// rerunEvery is the pause before a round answered READONLY runs again.
const rerunEvery = 10 * time.Millisecond

// round runs a round, bounded by Lease/3, ending the fallback state if all of
// it got through; then, roundMu released, it ends the lost slots and reports.
// It reports whether a call was answered READONLY.
//
// Answered NOSCRIPT, it asks no round at once, as other calls do (see
// emptied): it looks for lost slots itself, once its calls are sent again,
// counts as a look, and asks a round for the slots held since it was built
// (see noScriptRound); and, as it ends, it has the teller tell the other
// Limiters.
func (r *renewer) round() (readOnly bool) {
	r.roundMu.Lock()
	start, built := time.Now(), r.clock.epochNow()
	r.tell.send()
	r.frees.sweep()
	renewals := renewalsOf(r.clock, r.grouping, r.set.leaseArg, false)
	var adoptions []renewal
	if down, change := r.health.state(); !down {
		// Before the adoptions: a slot granted after them (to a cluster's
		// master out of reach) waits for the next round, and keeps the state on.
		r.fb.answered(change)
		adoptions = renewalsOf(r.clock, r.grouping, r.set.leaseArg, true)
	}
	ns := &noScriptRound{clock: r.clock, asks: r.asks, renewals: renewals, adoptions: adoptions, built: built}
	batches := r.frees.take(false, false)
	calls := make([]call, 0, len(renewals)+len(adoptions)+len(batches))
	for _, rc := range append(renewals, adoptions...) {
		calls = append(calls, rc.call)
	}
	calls = freeCalls(calls, batches, r.set.tombArg)
	var cmds []*redis.Cmd
	if len(calls) > 0 {
		ctx, cancel := context.WithTimeout(r.bg, r.set.renewEvery)
		confirm := func(idx []int, cmds []*redis.Cmd) { confirmRenewals(r.clock, renewals, idx, cmds, start, ns.epochOf) }
		cmds = evalByMaster(ctx, r.client, r.reach.masters(), calls, ns.heard, confirm)
		freeMovedHolders(ctx, r.client, batches, cmds[len(cmds)-len(batches):])
		cancel()
	}
	n, m := len(renewals), len(renewals)+len(adoptions)
	failures, lost := r.settleRenewals(renewals, cmds[:n], start, ns.epochOf)
	unadopted, unwritten := r.settleAdoptions(adoptions, cmds[n:m], start, ns.epoch())
	lost = append(lost, unwritten...)
	if r.settleFrees(batches, cmds[m:], start) == 0 && failures+unadopted == 0 && !r.health.isDown() {
		r.fb.leave()
		r.reach.clear()
		r.health.roundAnswered()
	}
	if ns.forgot { // the round found the scripts gone: it tells the others now
		r.tell.want()
		r.tell.send()
	}
	r.roundMu.Unlock()
	if ns.forgot && ns.heldSince() {
		r.lookNow()
	}
	if len(lost) > 0 {
		r.lost(lost, "gone from Redis, or its key is no slot set")
	}
	if len(renewals) > 0 {
		r.emit.renewalRound(renewals, start, failures, r.bg.Err() != nil)
	}
	return anyReadOnly(cmds)
}

// anyReadOnly reports whether a command was answered READONLY.
func anyReadOnly(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if readOnly(c.Err()) {
			return true
		}
	}
	return false
}

// settleRenewals returns how many renewal calls failed, and the slots lost.
// Renewal i was sent in epoch epochOf(i) (see leaseClock.epochNow).
func (r *renewer) settleRenewals(renewals []renewal, cmds []*redis.Cmd, sent time.Time, epochOf func(i int) uint64) (failures int, lost []*holding) {
	// Every answer is confirmed before any outcome is noted: an answer
	// after a failure may make the clock forget (Redis back, maybe
	// restarted), which would void the round's other answers, though they
	// too ran after that failure.
	errs := make([]error, len(renewals))
	for i, rc := range renewals {
		var gone []string
		if gone, errs[i] = cmds[i].StringSlice(); errs[i] == nil {
			lost = append(lost, r.clock.renewed(rc.slots, gone, sent, epochOf(i))...)
		}
	}
	for i, rc := range renewals {
		r.reached(rc.call.keys[0], errs[i], sent)
		if errs[i] == nil {
			r.health.note(nil, sent)
			continue
		}
		failures++
		for _, key := range keysOf(rc.slots) {
			r.noteFailure(key, fmt.Errorf("renew %d leases: %w", len(rc.slots), errs[i]), sent)
		}
	}
	return failures, lost
}

// settleAdoptions returns how many adopt calls failed, and the slots lost:
// those Redis did not write, their key being no slot set.
func (r *renewer) settleAdoptions(adoptions []renewal, cmds []*redis.Cmd, sent time.Time, epoch uint64) (failures int, lost []*holding) {
	for i, rc := range adoptions {
		gone, err := cmds[i].StringSlice()
		r.reached(rc.call.keys[0], err, sent)
		if err != nil {
			failures++
			for _, key := range keysOf(rc.slots) {
				r.noteFailure(key, fmt.Errorf("write %d fallback slots: %w", len(rc.slots), err), sent)
			}
			continue
		}
		r.health.note(nil, sent)
		adopted := r.clock.adopt(rc.slots, sent)
		if hear := r.onAdopt.Load(); hear != nil {
			(*hear)()
		}
		for _, s := range adopted {
			r.fb.adopted(s.ref.key)
		}
		if len(gone) > 0 { // adopted, so that their loss counts them out of the share
			lost = append(lost, r.clock.renewed(adopted, gone, sent, epoch)...)
		}
	}
	return failures, lost
}

// settleFrees returns how many free calls, sent at sent, failed.
func (r *renewer) settleFrees(batches []freeBatch, cmds []*redis.Cmd, sent time.Time) (failures int) {
	ok := make([]bool, len(batches))
	for i, b := range batches {
		r.reached(b.ref.rkey(), cmds[i].Err(), sent)
		if err := cmds[i].Err(); err != nil {
			failures++
			r.noteFailure(b.ref.key, fmt.Errorf("free %d slots: %w", b.len(), err), sent)
		} else {
			ok[i] = true
			r.health.note(nil, sent)
		}
	}
	r.frees.settle(batches, ok)
	return failures
}

// noteFailure notes a failed background call, sent at sent, unless Close
// cut it short.
func (r *renewer) noteFailure(key string, err error, sent time.Time) {
	if r.bg.Err() == nil {
		r.health.note(err, sent)
		r.trouble.failed(key, err)
	}
}

// reached notes which cluster master a call naming the slot set rkey, sent
// at sent, reached, unless Close cut it short.
func (r *renewer) reached(rkey string, err error, sent time.Time) {
	if r.bg.Err() == nil {
		r.reach.note(r.bg, rkey, err, sent)
	}
}

// keysOf returns the keys of slots, each once, in their order (a call's
// slots come key by key).
func keysOf(slots []*holding) []string {
	var keys []string
	for i, s := range slots {
		if i == 0 || s.ref.rkey() != slots[i-1].ref.rkey() {
			keys = append(keys, s.ref.key)
		}
	}
	return keys
}
