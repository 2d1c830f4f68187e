package redisslot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A heldKey is the set of slots of one key that a Limiter holds.
type heldKey struct {
	key   string           // as the caller named it, for errors
	slots map[string]*slot // by member id
}

// A slot is one held slot: a member of a slot set in Redis.
type slot struct {
	l      *Limiter
	key    string // as the caller named it
	rkey   string // Redis key of the slot set
	member string
	values context.Context // the acquiring ctx, for the values of the free
	cancel context.CancelCauseFunc

	// confirmed is when the last call that set the lease was sent, by the
	// local monotonic clock: the lease runs at least until confirmed+Lease.
	// Guarded by l.mu.
	confirmed time.Time

	obs slotObs // hook.go
}

// hold records s as held and starts the renewer if it is not running. The
// caller holds l.mu, and l is not closed.
func (l *Limiter) hold(s *slot) {
	hk := l.held[s.rkey]
	if hk == nil {
		hk = &heldKey{key: s.key, slots: make(map[string]*slot)}
		l.held[s.rkey] = hk
	}
	hk.slots[s.member] = s
	if !l.renewing {
		l.renewing = true
		l.wg.Add(1)
		go l.renew()
	}
}

// drop forgets s and reports whether it was held. Whoever drops a slot
// decides whether to free it in Redis. The caller holds l.mu.
func (l *Limiter) drop(s *slot) bool {
	hk := l.held[s.rkey]
	if hk == nil || hk.slots[s.member] != s {
		return false
	}
	delete(hk.slots, s.member)
	if len(hk.slots) == 0 {
		delete(l.held, s.rkey)
	}
	return true
}

// release is the function guarded by a slot's release: it runs once. It
// cancels the slot's context, then frees the member in one round trip. It
// sends nothing when the slot was already dropped: lost (its member is gone
// or its lease has ended) or taken by Close, which frees it itself.
func (s *slot) release() {
	s.cancel(nil) // cause context.Canceled, unless the context is already done
	l := s.l
	l.mu.Lock()
	mine := l.drop(s)
	if mine {
		l.wg.Add(1) // a held slot means l is not closed
	}
	l.mu.Unlock()
	if !mine {
		return
	}
	l.slotEnded(s) // hook.go
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.values), l.releaseTimeout)
	defer cancel()
	err := releaseScript.Run(ctx, l.client, []string{s.rkey}, wakeChannel(s.rkey), s.member).Err()
	if err != nil {
		l.report(fmt.Errorf("redisslot: free slot of key %q: %w", s.key, err))
	}
}

// freeLater frees a member whose acquire failed or was abandoned after it
// may have reached Redis, on a goroutine of its own. The caller is counted
// in l.wg. If the free fails, the member ends with its lease.
func (l *Limiter) freeLater(values context.Context, key, rkey, member string) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(values), l.releaseTimeout)
		defer cancel()
		err := releaseScript.Run(ctx, l.client, []string{rkey}, wakeChannel(rkey), member).Err()
		if err != nil {
			l.report(fmt.Errorf("redisslot: free slot of key %q after a failed acquire: %w", key, err))
		}
	}()
}

// freeAll frees the given slots, one call per key and batch, in one
// pipeline, bounded by ReleaseTimeout. It returns an error per failed call.
func (l *Limiter) freeAll(held map[string]*heldKey) []error {
	var calls []call
	var keys []string
	for rkey, hk := range held {
		args := []any{wakeChannel(rkey)}
		for member := range hk.slots {
			args = append(args, member)
			if len(args) == 1+batchSize {
				calls = append(calls, call{rkey, args})
				keys = append(keys, hk.key)
				args = []any{wakeChannel(rkey)}
			}
		}
		if len(args) > 1 {
			calls = append(calls, call{rkey, args})
			keys = append(keys, hk.key)
		}
	}
	if len(calls) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.releaseTimeout)
	defer cancel()
	var errs []error
	for i, cmd := range evalAll(ctx, l.client, releaseScript, calls) {
		if err := cmd.Err(); err != nil {
			errs = append(errs, fmt.Errorf("redisslot: free %d slots of key %q on close: %w", len(calls[i].args)-1, keys[i], err))
		}
	}
	return errs
}

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
	var obs renewObs         // hook.go
	defer l.renewEnded(&obs) // hook.go: runs after renewMu is unlocked
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
	obs = renewObs{calls, start, len(errs), lost} // hook.go
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
		l.leaseLost(s) // hook.go
		l.report(fmt.Errorf("redisslot: slot of key %q (member %s) had no renewal confirmed for %v: %w", s.key, s.member, l.lease, ErrLeaseLost))
	}
	return next, ok
}
