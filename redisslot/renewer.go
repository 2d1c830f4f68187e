package redisslot

import (
	"context"
	"fmt"
	"time"
)

// startRenewer starts the renewer if it is not running. The caller holds
// l.mu, and l is not closed.
func (l *Limiter) startRenewer() {
	if !l.renewing {
		l.renewing = true
		l.wg.Add(1)
		go l.renew()
	}
}

// renew is the Limiter's one background goroutine. It runs while l holds
// slots or has pending frees: every Lease/3 it extends the leases of all
// held slots in one round, sends every pending free again, and reports the
// round's failures, one report per key; when kicked, it sends the pending
// frees never sent yet; and in between it wakes when a slot reaches the end
// of a whole Lease without a confirmed renewal, which it then reports lost.
func (l *Limiter) renew() {
	defer l.wg.Done()
	next := time.Now().Add(l.renewEvery)
	t := time.NewTimer(l.renewEvery)
	defer t.Stop()
	for {
		select {
		case <-l.closing:
			return
		case <-l.kick:
			l.sendFrees(true, l.freeTimeout())
		case <-t.C:
		}
		if now := time.Now(); !now.Before(next) {
			next = now.Add(l.renewEvery)
			l.renewRound()
			l.sendFrees(false, l.freeTimeout())
			l.flushTrouble()
		}
		deadline, ok := l.expireStale(time.Now())
		if !ok {
			l.flushTrouble()
			return
		}
		t.Reset(max(min(time.Until(next), time.Until(deadline)), 0))
	}
}

// freeTimeout bounds a background send of frees: ReleaseTimeout, but no
// more than a renewal interval, so that the rounds keep their rhythm.
func (l *Limiter) freeTimeout() time.Duration { return min(l.releaseTimeout, l.renewEvery) }

// renewRound extends the lease of every slot l holds, in calls of up to
// batchSize slots (of many keys, as the client allows: see renewCalls), all
// in one pipeline, bounded by Lease/3. A held slot whose member the reply
// names as not extended has lost its lease. A slot released during the
// round is no longer held, so its missing member is not a loss.
func (l *Limiter) renewRound() {
	var obs renewObs         // hook.go
	defer l.renewEnded(&obs) // hook.go: runs after renewMu is unlocked
	l.renewMu.Lock()
	defer l.renewMu.Unlock()

	start := time.Now()
	l.mu.Lock()
	calls, batches := l.renewCalls(start)
	l.mu.Unlock()
	if len(calls) == 0 {
		return
	}

	ctx, cancel := context.WithTimeout(l.bg, l.renewEvery)
	cmds := evalAll(ctx, l.client, renewScript, calls)
	cancel()

	var lost []*slot
	l.mu.Lock()
	for i, cmd := range cmds {
		batch := batches[i]
		gone, err := cmd.StringSlice()
		if err != nil {
			if l.bg.Err() == nil { // calls cut short by Close are not failures
				l.trouble.failed(batch[0].key, fmt.Errorf("renew %d leases: %w", len(batch), err))
			}
			continue
		}
		missing := make(map[string]bool, len(gone))
		for _, m := range gone {
			missing[m] = true
		}
		for _, s := range batch {
			if missing[s.member] {
				if l.drop(s) {
					lost = append(lost, s)
				}
			} else if s.confirmed.Before(start) {
				s.confirmed = start
			}
		}
	}
	l.mu.Unlock()

	for _, s := range lost {
		s.cancel(ErrLeaseLost)
		l.trouble.lost(s.key, "gone from Redis, or its key is no slot set")
	}
	obs = renewObs{calls, start, cmds, lost} // hook.go
}

// expireStale drops the slots whose lease was not confirmed for a whole
// Lease by now, cancels their contexts with ErrLeaseLost, notes them for
// the round's report, and puts their members on the pending frees (a
// renewal that Redis has not run yet may still extend them). It forgets
// the pending frees whose lease has surely ended. It returns when the next
// slot or pending free reaches its end, and false when l holds no slot and
// has no pending free: the renewer then stops (a new one starts another).
func (l *Limiter) expireStale(now time.Time) (time.Time, bool) {
	var stale []*slot
	l.mu.Lock()
	next := l.dropEndedFrees(now)
	for _, hk := range l.held {
		for _, s := range hk.slots {
			end := s.confirmed.Add(l.lease)
			if !now.Before(end) {
				stale = append(stale, s)
			} else if next.IsZero() || end.Before(next) {
				next = end
			}
		}
	}
	for _, s := range stale {
		l.drop(s)
		until := s.renewSent.Add(l.lease)
		l.addPending(s.key, s.rkey, s.member, until, false)
		if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	ok := len(l.held) > 0 || len(l.pending) > 0
	if !ok {
		l.renewing = false
	}
	l.mu.Unlock()
	for _, s := range stale {
		s.cancel(ErrLeaseLost)
		l.leaseLost(s) // hook.go
		l.trouble.lost(s.key, fmt.Sprintf("no renewal confirmed for %v", l.lease))
	}
	return next, ok
}

// renewCalls groups the held slots into renewal calls of up to batchSize
// slots each, and returns the calls and the slots of each. A call renews
// many keys when the client runs a script over any keys (a single node, a
// failover client), the keys of one hash slot on a Redis Cluster client,
// and one key otherwise. It notes now as the time a renewal of each slot
// was sent. The caller holds l.mu.
func (l *Limiter) renewCalls(now time.Time) ([]call, [][]*slot) {
	type building struct {
		keys   []string
		counts []int
		slots  []*slot
	}
	open := make(map[string]*building)
	var done []*building
	for rkey, hk := range l.held {
		bucket := l.bucketOf(rkey)
		for _, s := range hk.slots {
			b := open[bucket]
			if b == nil {
				b = &building{}
				open[bucket] = b
			}
			if len(b.keys) == 0 || b.keys[len(b.keys)-1] != rkey {
				b.keys = append(b.keys, rkey)
				b.counts = append(b.counts, 0)
			}
			b.counts[len(b.counts)-1]++
			b.slots = append(b.slots, s)
			s.renewSent = now
			if len(b.slots) == batchSize {
				done = append(done, b)
				delete(open, bucket)
			}
		}
	}
	for _, b := range open {
		done = append(done, b)
	}
	calls := make([]call, len(done))
	batches := make([][]*slot, len(done))
	for i, b := range done {
		args := make([]any, 0, 1+len(b.counts)+len(b.slots))
		args = append(args, l.leaseArg)
		for _, n := range b.counts {
			args = append(args, n)
		}
		for _, s := range b.slots {
			args = append(args, s.member)
		}
		calls[i] = call{keys: b.keys, args: args}
		batches[i] = b.slots
	}
	return calls, batches
}
