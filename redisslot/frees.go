package redisslot

import (
	"context"
	"fmt"
	"time"
)

// The pending frees: members this Limiter has to remove from Redis and has
// not yet seen removed. A release, a failed acquire and Close put members
// here; the Limiter's background goroutine (the renewer) sends them at
// once, batched per key in one pipeline, and again with every renewal round
// until Redis confirms them or their lease has surely ended. No caller ever
// waits for a free, and no goroutine is started for one.

// maxCarried is the most pending frees of its key an acquire carries to
// Redis, to remove them in the same call before it counts the holders.
const maxCarried = 64

// A pendingKey is the pending frees of one key.
type pendingKey struct {
	key     string                  // as the caller named it, for errors
	members map[string]*pendingFree // by member id
}

// A pendingFree is one member waiting for its free to be confirmed.
type pendingFree struct {
	// until is when its lease has surely ended: Lease after the last call
	// that could have set it was sent.
	until time.Time
	// unsure marks a member whose acquire failed or timed out: its script
	// may still run later (a command written before a stall runs when Redis
	// resumes), so a confirmed free counts only if it removed the member or
	// was sent after until. Past until plus a Lease it is dropped anyway.
	unsure bool
	// sent is set once a free of it has been sent; a kick sends only the
	// members not yet sent, and the rounds send them all again.
	sent bool
}

// addPending puts a member on the pending list and kicks the sender. The
// caller holds l.mu. When l is closed it only records the member: Close
// sends what is left after the calls in flight have ended.
func (l *Limiter) addPending(key, rkey, member string, until time.Time, unsure bool) {
	pk := l.pending[rkey]
	if pk == nil {
		pk = &pendingKey{key: key, members: make(map[string]*pendingFree)}
		l.pending[rkey] = pk
	}
	pk.members[member] = &pendingFree{until: until, unsure: unsure}
	if l.closed {
		return
	}
	l.startRenewer()
	poke(l.kick)
}

// carried returns up to maxCarried pending frees of rkey, for an acquire to
// carry. The caller holds l.mu.
func (l *Limiter) carried(rkey string) []string {
	pk := l.pending[rkey]
	if pk == nil {
		return nil
	}
	ids := make([]string, 0, min(len(pk.members), maxCarried))
	for m := range pk.members {
		if len(ids) == maxCarried {
			break
		}
		ids = append(ids, m)
	}
	return ids
}

// confirmCarried forgets the sure pending frees an acquire carried and
// Redis ran: its script removed them before anything else.
func (l *Limiter) confirmCarried(rkey string, ids []string) {
	if len(ids) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if pk := l.pending[rkey]; pk != nil {
		for _, m := range ids {
			if p := pk.members[m]; p != nil && !p.unsure {
				delete(pk.members, m)
			}
		}
		if len(pk.members) == 0 {
			delete(l.pending, rkey)
		}
	}
}

// A freeBatch is one free call: up to batchSize members of one key.
type freeBatch struct {
	rkey, key string
	members   []string
}

// takeFrees lists the pending frees to send: all of them, or, when fresh,
// only those never sent. It marks them sent. The caller holds l.mu.
func (l *Limiter) takeFrees(pending map[string]*pendingKey, fresh bool) []freeBatch {
	var batches []freeBatch
	for rkey, pk := range pending {
		b := freeBatch{rkey: rkey, key: pk.key}
		for m, p := range pk.members {
			if fresh && p.sent {
				continue
			}
			p.sent = true
			b.members = append(b.members, m)
			if len(b.members) == batchSize {
				batches = append(batches, b)
				b = freeBatch{rkey: rkey, key: pk.key}
			}
		}
		if len(b.members) > 0 {
			batches = append(batches, b)
		}
	}
	return batches
}

// sendFrees sends the pending frees (only those never sent, when fresh) in
// one pipeline bounded by timeout, forgets those Redis confirms, and notes
// the failures for the round's report.
func (l *Limiter) sendFrees(fresh bool, timeout time.Duration) {
	l.mu.Lock()
	batches := l.takeFrees(l.pending, fresh)
	l.mu.Unlock()
	if len(batches) == 0 {
		return
	}
	sent := time.Now()
	removed, errs := l.runFrees(l.bg, batches, timeout)
	l.mu.Lock()
	for i, b := range batches {
		if errs[i] != nil {
			continue
		}
		pk := l.pending[b.rkey]
		if pk == nil {
			continue
		}
		for _, m := range b.members {
			p := pk.members[m]
			if p != nil && (!p.unsure || removed[m] || !sent.Before(p.until)) {
				delete(pk.members, m)
			}
		}
		if len(pk.members) == 0 {
			delete(l.pending, b.rkey)
		}
	}
	l.mu.Unlock()
	for i, b := range batches {
		if errs[i] != nil {
			if l.bg.Err() == nil { // calls cut short by Close are not failures
				l.trouble.failed(b.key, fmt.Errorf("free %d slots: %w", len(b.members), errs[i]))
			}
		}
	}
}

// runFrees sends one free call per batch in one pipeline, bounded by
// parent and timeout. It returns the members Redis removed, and an error
// per batch.
func (l *Limiter) runFrees(parent context.Context, batches []freeBatch, timeout time.Duration) (map[string]bool, []error) {
	calls := make([]call, len(batches))
	for i, b := range batches {
		args := make([]any, 0, 1+len(b.members))
		args = append(args, wakeChannel(b.rkey))
		for _, m := range b.members {
			args = append(args, m)
		}
		calls[i] = call{keys: keysOf(b.rkey), args: args}
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	removed := make(map[string]bool)
	errs := make([]error, len(batches))
	for i, cmd := range evalAll(ctx, l.client, releaseScript, calls) {
		ids, err := cmd.StringSlice()
		if err != nil {
			errs[i] = err
			continue
		}
		for _, m := range ids {
			removed[m] = true
		}
	}
	return removed, errs
}

// dropEndedFrees forgets the pending frees whose lease has surely ended by
// now (unsure ones a Lease later), and returns when the next one will.
// The caller holds l.mu.
func (l *Limiter) dropEndedFrees(now time.Time) (next time.Time) {
	for rkey, pk := range l.pending {
		for m, p := range pk.members {
			end := p.until
			if p.unsure {
				end = end.Add(l.lease)
			}
			if !now.Before(end) {
				delete(pk.members, m)
			} else if next.IsZero() || end.Before(next) {
				next = end
			}
		}
		if len(pk.members) == 0 {
			delete(l.pending, rkey)
		}
	}
	return next
}

// freeOnClose sends every pending free, bounded by ReleaseTimeout, and
// returns an error per failed call, naming its key. l is closed: nothing
// else sends them any more.
func (l *Limiter) freeOnClose() []error {
	l.mu.Lock()
	pending := l.pending
	l.pending = make(map[string]*pendingKey)
	batches := l.takeFrees(pending, false)
	l.mu.Unlock()
	if len(batches) == 0 {
		return nil
	}
	_, failed := l.runFrees(context.Background(), batches, l.releaseTimeout)
	var errs []error
	for i, err := range failed {
		if err != nil {
			b := batches[i]
			errs = append(errs, fmt.Errorf("redisslot: free %d slots of key %s on close: %w", len(b.members), quoteKey(b.key), err))
		}
	}
	return errs
}
