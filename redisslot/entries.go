package redisslot

import (
	"context"
	"fmt"
	"time"
)

// A waiter's entry in its key's queue in Redis ends entryTTL after it was
// last renewed, and the Limiter renews the entries of its waiters every
// entryRenewEvery. So the waiters of a crashed or stalled instance stop
// holding up the queue within entryTTL plus one renewal round of another
// instance, whatever the Lease, while a live instance rides out a Redis
// pause of about two rounds.
const (
	entryTTL        = time.Second
	entryRenewEvery = 300 * time.Millisecond
)

// entryTTLArg is entryTTL in milliseconds, boxed once for the scripts'
// arguments.
var entryTTLArg any = entryTTL.Milliseconds()

// startWaiting runs when a key gets its first local waiter: it starts the
// subscriber (once) and the entry renewer (unless it runs). The caller holds
// l.waiting.mu and is counted in l.wg.
func (l *Limiter) startWaiting() {
	l.startSubscriber()
	if !l.waiting.renewing {
		l.waiting.renewing = true
		l.wg.Add(1)
		go l.renewEntries()
	}
}

// renewEntries is the Limiter's entry renewer goroutine. It runs while l
// has waiters: every entryRenewEvery it renews all their entries, one
// script call per key (per few hundred waiters of a key), in one pipeline.
// Failures go to OnError with those of the slot renewals, once per key per
// Lease/3 at most.
func (l *Limiter) renewEntries() {
	defer l.wg.Done()
	t := time.NewTicker(entryRenewEvery)
	defer t.Stop()
	flushed := time.Now()
	for {
		select {
		case <-l.closing:
			return
		case <-t.C:
		}
		calls, batches, ok := l.waiting.entryCalls()
		if !ok {
			l.flushTrouble()
			return
		}
		l.renewEntryRound(calls, batches)
		if time.Since(flushed) >= l.renewEvery {
			l.flushTrouble()
			flushed = time.Now()
		}
	}
}

// entryCalls returns the calls that renew the entries of every local
// waiter, and the waiters of each call. When there is none it stops the
// renewer: it reports false, and the next waiter starts another.
func (w *waiting) entryCalls() ([]call, [][]*waiter, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queues) == 0 {
		w.renewing = false
		return nil, nil, false
	}
	var calls []call
	var batches [][]*waiter
	for _, q := range w.queues {
		var batch []*waiter
		args := []any{entryTTLArg, q.channel}
		for e := q.waiters.Front(); e != nil; e = e.Next() {
			wt := e.Value.(*waiter)
			args = append(args, wt.member)
			batch = append(batch, wt)
			if len(batch) == batchSize || e.Next() == nil {
				calls = append(calls, call{keysOf(q.rkey), args})
				batches = append(batches, batch)
				batch, args = nil, []any{entryTTLArg, q.channel}
			}
		}
	}
	return calls, batches, true
}

// renewEntryRound runs one round of entry renewals, bounded by
// entryRenewEvery. A waiter whose entry the reply names as gone from the
// queue is woken, so that it joins again, at the back. Failures are noted
// for the next report.
func (l *Limiter) renewEntryRound(calls []call, batches [][]*waiter) {
	ctx, cancel := context.WithTimeout(l.bg, entryRenewEvery)
	cmds := evalAll(ctx, l.client, renewWaitersScript, calls)
	cancel()
	for i, cmd := range cmds {
		batch := batches[i]
		gone, err := cmd.StringSlice()
		if err != nil {
			l.trouble.failed(batch[0].key, fmt.Errorf("renew %d places in line: %w", len(batch), err))
			continue
		}
		if len(gone) > 0 {
			l.waiting.rejoin(batch, gone)
		}
	}
}

// rejoin wakes the waiters of batch whose member is in gone and which
// still wait here: their next try joins the queue again.
func (w *waiting) rejoin(batch []*waiter, gone []string) {
	missing := make(map[string]bool, len(gone))
	for _, m := range gone {
		missing[m] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, wt := range batch {
		if missing[wt.member] && !wt.left && !wt.woken {
			wt.woken, wt.probe = true, false
			poke(wt.notify)
		}
	}
}
