package redisslot

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// A subscriber is the Limiter's one pub/sub connection and the goroutine
// that reads it.
type subscriber struct {
	ps     *redis.PubSub
	resync chan struct{} // buffered 1: the set of waited-for keys changed
	// subscribed is the set of channels asked for; only the listening
	// goroutine touches it.
	subscribed map[string]bool
}

// startSubscriber opens the pub/sub connection, once. The caller holds
// l.waiting.mu and is counted in l.wg.
func (l *Limiter) startSubscriber() {
	if l.waiting.sub != nil {
		poke(l.waiting.sub.resync)
		return
	}
	ps := l.client.Subscribe(l.bg) // no channel yet: connects on first use
	sub := &subscriber{
		ps:         ps,
		resync:     make(chan struct{}, 1),
		subscribed: make(map[string]bool),
	}
	l.waiting.sub = sub
	poke(sub.resync)
	// go-redis reads the connection on a goroutine of its own, pings it, and
	// reconnects and subscribes again after an error. Its channel drops a
	// message only when the reader stalls for a minute; listen never blocks
	// on anything slow.
	msgs := ps.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	l.wg.Add(1)
	go l.listen(sub, msgs)
}

// resync tells the subscriber that a key lost its last local waiter.
func (l *Limiter) resync() {
	l.waiting.mu.Lock()
	sub := l.waiting.sub
	l.waiting.mu.Unlock()
	if sub != nil {
		poke(sub.resync)
	}
}

// listen is the subscriber's goroutine: it turns messages into wake-ups and
// keeps the subscriptions equal to the set of waited-for keys. It ends when
// Close closes the connection.
func (l *Limiter) listen(sub *subscriber, msgs <-chan any) {
	defer l.wg.Done()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *redis.Subscription:
				// Now subscribed (again, after a reconnect): a free may
				// have gone unheard, so the oldest waiter tries.
				if m.Kind == "subscribe" {
					l.waiting.wake(m.Channel, 1, true)
				}
			case *redis.Message:
				if drop := l.waiting.dropWake.Load(); drop != nil && (*drop)(m.Channel) {
					continue
				}
				woken := l.waiting.wakeFor(m.Channel, m.Payload)
				if hear := l.waiting.onWake.Load(); hear != nil {
					(*hear)(m.Channel, woken)
				}
			}
		case <-sub.resync:
			l.resubscribe(sub)
		}
	}
}

// changes returns the channels of keys that gained local waiters since the
// last call and those of keys that lost them, and marks sub as subscribed
// to the former. A fresh queue on a channel still subscribed (its
// unsubscribe has not been sent) gets no confirmation, so its oldest
// waiter tries at once.
func (sub *subscriber) changes(w *waiting) (add, remove []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch, q := range w.queues {
		if !sub.subscribed[ch] {
			// Its confirmation wakes the oldest waiter.
			add = append(add, ch)
			sub.subscribed[ch] = true
		} else if q.fresh {
			wakeOldest(q, 1, true)
		}
		q.fresh = false
	}
	for ch := range sub.subscribed {
		if w.queues[ch] == nil {
			remove = append(remove, ch)
			delete(sub.subscribed, ch)
		}
	}
	return add, remove
}

// resubscribe subscribes to the channels of keys that gained waiters and
// unsubscribes from those of keys that lost them. go-redis remembers the
// channels even when the call fails, and subscribes to them again when it
// reconnects. Its calls are bounded by ReleaseTimeout, far below the minute
// for which go-redis holds a message that listen has not yet read.
//
// go-redis's reader retries a broken connection on its own and does not
// report it; waiters then rely on their retry timer, and the failures show
// in OnError through the renewals and frees that fail alongside.
func (l *Limiter) resubscribe(sub *subscriber) {
	add, remove := sub.changes(&l.waiting)
	ctx, cancel := context.WithTimeout(l.bg, l.releaseTimeout)
	defer cancel()
	var errs []error
	if len(add) > 0 {
		if err := sub.ps.Subscribe(ctx, add...); err != nil {
			errs = append(errs, fmt.Errorf("redisslot: subscribe to wake-ups %q: %w", add, err))
		}
	}
	if len(remove) > 0 {
		if err := sub.ps.Unsubscribe(ctx, remove...); err != nil {
			errs = append(errs, fmt.Errorf("redisslot: unsubscribe from wake-ups %q: %w", remove, err))
		}
	}
	if len(errs) > 0 && l.bg.Err() == nil {
		l.report(errors.Join(errs...))
	}
}

// stopWaiting closes the pub/sub connection, which ends the listening
// goroutine. Waiting Acquire calls have been told by l.closing.
func (l *Limiter) stopWaiting() error {
	l.waiting.mu.Lock()
	l.waiting.closed = true
	sub := l.waiting.sub
	l.waiting.mu.Unlock()
	if sub == nil {
		return nil
	}
	if err := sub.ps.Close(); err != nil {
		return fmt.Errorf("redisslot: close pub/sub connection: %w", err)
	}
	return nil
}
