package redisslot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// renew is the Limiter's one renewer goroutine. It runs while l holds
// slots: every Lease/3 it extends all their leases in one round, and in
// between it wakes when a slot reaches the end of a whole Lease without a
// confirmed renewal, which it then reports lost.
func (l *Limiter) renew() {
	defer l.wg.Done()
	next := time.Now().Add(l.renewEvery)
	t := time.NewTimer(l.renewEvery)
	defer t.Stop()
	for {
		select {
		case <-l.closing:
			return
		case <-t.C:
		}
		if now := time.Now(); !now.Before(next) {
			next = now.Add(l.renewEvery)
			l.renewRound()
		}
		deadline, ok := l.expireStale(time.Now())
		if !ok {
			return
		}
		t.Reset(max(min(time.Until(next), time.Until(deadline)), 0))
	}
}

// renewRound extends the lease of every slot l holds: one script call per
// key (per batch of a few hundred slots), all in one pipeline, bounded by
// Lease/3. A held slot whose member the reply names as not extended has
// lost its lease. A slot released during the round is no longer held, so
// its missing member is not a loss.
func (l *Limiter) renewRound() {
	l.renewMu.Lock()
	defer l.renewMu.Unlock()

	start := time.Now()
	var calls []call
	var batches [][]*slot
	l.mu.Lock()
	for rkey, hk := range l.held {
		var batch []*slot
		args := []any{l.leaseMs}
		for member, s := range hk.slots {
			args = append(args, member)
			batch = append(batch, s)
			if len(batch) == batchSize {
				calls = append(calls, call{rkey, args})
				batches = append(batches, batch)
				batch, args = nil, []any{l.leaseMs}
			}
		}
		if len(batch) > 0 {
			calls = append(calls, call{rkey, args})
			batches = append(batches, batch)
		}
	}
	l.mu.Unlock()
	if len(calls) == 0 {
		return
	}

	ctx, cancel := context.WithTimeout(l.bg, l.renewEvery)
	cmds := evalAll(ctx, l.client, renewScript, calls)
	cancel()

	var errs []error
	var lost []*slot
	l.mu.Lock()
	for i, cmd := range cmds {
		batch := batches[i]
		gone, err := cmd.StringSlice()
		if err != nil {
			errs = append(errs, fmt.Errorf("redisslot: renew %d leases of key %q: %w", len(batch), batch[0].key, err))
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
		l.report(fmt.Errorf("redisslot: slot of key %q (member %s) is gone from Redis: %w", s.key, s.member, ErrLeaseLost))
	}
	// Calls cut short by Close are not failures: Close frees the slots.
	if len(errs) > 0 && l.bg.Err() == nil {
		l.report(errors.Join(errs...))
	}
}

// expireStale drops the slots whose lease was not confirmed for a whole
// Lease by now, cancels their contexts with ErrLeaseLost and reports them.
// It returns when the next slot reaches that point, and false when l holds
// no slot: the renewer then stops (a new slot starts another).
func (l *Limiter) expireStale(now time.Time) (time.Time, bool) {
	var stale []*slot
	var next time.Time
	l.mu.Lock()
	for _, hk := range l.held {
		for _, s := range hk.slots {
			end := s.confirmed.Add(l.lease)
			if !now.Before(end) {
				l.drop(s)
				stale = append(stale, s)
			} else if next.IsZero() || end.Before(next) {
				next = end
			}
		}
	}
	ok := len(l.held) > 0
	if !ok {
		l.renewing = false
	}
	l.mu.Unlock()
	for _, s := range stale {
		s.cancel(ErrLeaseLost)
		l.report(fmt.Errorf("redisslot: slot of key %q (member %s) had no renewal confirmed for %v: %w", s.key, s.member, l.lease, ErrLeaseLost))
	}
	return next, ok
}
