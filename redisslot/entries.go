package redisslot

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A waiter's entry in its key's queue ends entryTTL after its last renewal,
// and entries are renewed every entryRenewEvery: a live instance rides out
// a Redis pause of about two rounds, whatever the Lease (see Acquire).
const (
	entryTTL        = time.Second
	entryRenewEvery = 300 * time.Millisecond
)

var entryTTLArg any = entryTTL.Milliseconds() // boxed once for the scripts

// An entryRenewer is a Limiter's goroutine that renews its waiters'
// entries while it has waiters: every entryRenewEvery, one call per key,
// in one pipeline. A waiter whose entry is gone is woken to join again.
//
// Its mu guards running and stopped.
type entryRenewer struct {
	client  redis.UniversalClient
	waiting *waiting
	trouble *trouble
	health  *health
	bg      context.Context // ends when the Limiter closes
	flush   func()          // reports the trouble noted
	every   time.Duration   // how often to flush at most: Lease/3

	mu      sync.Mutex
	running bool
	stopped bool
	wg      sync.WaitGroup
}

// wake starts the goroutine unless it runs.
func (e *entryRenewer) wake() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.running && !e.stopped {
		e.running = true
		e.wg.Add(1)
		go e.run()
	}
}

// stop waits for the goroutine to end; the Limiter has ended bg.
func (e *entryRenewer) stop() {
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
	e.wg.Wait()
}

func (e *entryRenewer) run() {
	defer e.wg.Done()
	t := time.NewTicker(entryRenewEvery)
	defer t.Stop()
	flushed := time.Now()
	for {
		select {
		case <-e.bg.Done():
			return
		case <-t.C:
		}
		if e.idle() {
			e.flush()
			return
		}
		e.round(e.waiting.entryCalls())
		if time.Since(flushed) >= e.every {
			e.flush()
			flushed = time.Now()
		}
	}
}

// idle reports, and records, that the goroutine stops: nobody waits.
func (e *entryRenewer) idle() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.waiting.len() > 0 {
		return false
	}
	e.running = false
	return true
}

// round renews entries, bounded by half an entry's TTL, so they are still there.
func (e *entryRenewer) round(calls []call, queues []*localQueue) {
	if len(calls) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(e.bg, entryTTL/2)
	sent := time.Now()
	cmds := evalAll(ctx, e.client, calls, nil)
	cancel()
	for i, q := range queues {
		gone, err := cmds[i].StringSlice()
		if err != nil {
			if e.bg.Err() == nil {
				places := len(calls[i].args) - 1 // the members after the TTL
				e.health.note(err, sent)
				e.trouble.failed(q.ref.key, fmt.Errorf("renew %d places in line: %w", places, err))
			}
			continue
		}
		e.health.note(nil, sent)
		if len(gone) > 0 {
			e.waiting.rejoin(q, gone)
		}
	}
}

// entryCalls returns the calls that renew every local waiter's entry, and
// the queue of each.
func (w *waiting) entryCalls() (calls []call, queues []*localQueue) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, q := range w.queues {
		args := []any{entryTTLArg}
		for e := q.waiters.Front(); e != nil; e = e.Next() {
			args = append(args, e.Value.(*waiter).member)
			if len(args) == 1+batchSize || e.Next() == nil {
				calls = append(calls, call{script: renewWaitersScript, keys: q.ref.keys(), args: args})
				queues = append(queues, q)
				args = []any{entryTTLArg}
			}
		}
	}
	return calls, queues
}
