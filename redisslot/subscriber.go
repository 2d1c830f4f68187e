package redisslot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A subscriber is a Limiter's one pub/sub connection, opened for the first
// local waiter or the first slot, and the goroutine that reads it: it
// subscribes to the keys with local waiters and wakes the waiters that
// messages name. go-redis resubscribes after an error, but drops a message
// when the reader stalls for a minute: the goroutine never blocks on
// anything slow. A subscription confirmed twice means the connection came
// back: it then calls restart. From the first slot on it also keeps canary
// subscribed: a Redis restart breaks the connection, so its reconnect tells
// the Limiter to look for the slots the restart lost, whether or not a call
// of its own failed. Its first confirmation looks too (see firstConfirmed):
// Redis may have restarted after the first slot and before the canary got
// through; and a message there from another Limiter, which found the
// scripts gone (see renewer.emptied), does the same, for a restart that did
// not break this connection (on a Redis Cluster, of another node).
//
// Its mu guards ps and stopped; subscribed, confirmed, canaryOn and failed
// are the goroutine's.
type subscriber struct {
	client  redis.UniversalClient
	waiting *waiting
	bg      context.Context // ends when the Limiter closes
	timeout time.Duration   // bounds each (un)subscribe call
	report  func(error)     // notes a failed (un)subscribe for the round's report
	restart func()          // a restart may have lost slots: look for them
	held    heldSlots       // the Limiter's slots, looked at on the canary's first confirmation
	asks    *roundAsks      // marked by that look
	canary  string
	self    string // this Limiter's instance id: its own messages on canary

	watching atomic.Bool // canary wanted: the Limiter has held a slot
	checked  atomic.Bool // the canary's first confirmation has been looked into

	mu      sync.Mutex
	ps      *redis.PubSub // nil until the first waiter or round
	stopped bool
	resync  chan struct{} // buffered 1: the keys with waiters changed
	wg      sync.WaitGroup

	subscribed map[string]bool // keys (names of their slot sets) asked for
	confirmed  map[string]bool // channels whose subscription Redis confirmed, till unsubscribed
	canaryOn   bool            // canary asked for
	failed     bool            // a subscribe failed before the canary was first confirmed
}

// heldSlots is what the subscriber asks of the lease clock.
type heldSlots interface {
	leased(n int) []*holding // up to n of the slots held with a lease
	holds(s *holding) bool   // whether s is still held
}

// sync tells the subscriber that a key gained its first local waiter or lost its last.
func (s *subscriber) sync() {
	s.mu.Lock()
	var err error
	if !s.stopped {
		if err = s.startLocked(); err == nil {
			poke(s.resync)
		}
	}
	s.mu.Unlock()
	s.reportOpen(err)
}

// watch tells the subscriber that the Limiter holds slots: from the first
// call on, it keeps canary subscribed. Later calls cost an atomic load.
func (s *subscriber) watch() {
	if s.watching.Load() {
		return
	}
	s.mu.Lock()
	var err error
	if !s.stopped && !s.watching.Swap(true) {
		if err = s.startLocked(); err == nil {
			poke(s.resync)
		} else {
			s.watching.Store(false) // the next call tries again
		}
	}
	s.mu.Unlock()
	s.reportOpen(err)
}

// reportOpen reports a failure to open the pub/sub connection, with no
// lock held.
func (s *subscriber) reportOpen(err error) {
	if err != nil {
		s.report(fmt.Errorf("open the pub/sub connection: %w", err))
	}
}

// startLocked opens the connection and starts the goroutine, once; if it
// cannot open it, the next call tries again. The caller holds mu.
func (s *subscriber) startLocked() error {
	if s.ps != nil {
		return nil
	}
	ps, err := s.open()
	if err != nil {
		return err
	}
	s.ps = ps
	s.resync = make(chan struct{}, 1)
	s.subscribed, s.confirmed = make(map[string]bool), make(map[string]bool)
	msgs := s.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024))
	s.wg.Add(1)
	go s.run(msgs)
	return nil
}

// open makes the pub/sub connection, with no channel yet: it connects on
// first use. A Ring subscribes on one shard, which go-redis's Ring names by
// a channel (it panics with none): the canary's shard, where the restart
// messages go.
func (s *subscriber) open() (*redis.PubSub, error) {
	ring, ok := s.client.(*redis.Ring)
	if !ok {
		return s.client.Subscribe(s.bg), nil
	}
	shard, err := ring.GetShardClientForKey(s.canary)
	if err != nil {
		return nil, err
	}
	return shard.Subscribe(s.bg), nil
}

func (s *subscriber) run(msgs <-chan any) {
	defer s.wg.Done()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				return
			}
			s.handle(m)
		case <-s.resync:
			s.resubscribe()
		}
	}
}

func (s *subscriber) handle(m any) {
	switch m := m.(type) {
	case *redis.Subscription:
		if m.Kind == "unsubscribe" {
			// A confirmation read after the key was dropped marked it:
			// this reply, which follows it, unmarks it.
			delete(s.confirmed, m.Channel)
		}
		if m.Kind != "subscribe" {
			return
		}
		switch {
		case s.confirmed[m.Channel]:
			s.restart()
		case m.Channel == s.canary:
			s.firstConfirmed()
		}
		s.confirmed[m.Channel] = true
		// Now subscribed: a free may have gone unheard, so the oldest tries.
		s.waiting.wake(strings.TrimSuffix(m.Channel, channelSuffix), 1, true)
	case *redis.Message:
		if m.Channel == s.canary {
			if m.Payload != s.self {
				s.restart()
			}
			return
		}
		if drop := s.waiting.dropWake.Load(); drop != nil && (*drop)(m.Channel) {
			return
		}
		woken := s.waiting.wakeNamed(strings.TrimSuffix(m.Channel, channelSuffix), m.Payload)
		if hear := s.waiting.onWake.Load(); hear != nil {
			(*hear)(m.Channel, woken)
		}
	}
}

// firstConfirmed hears the canary's first confirmation: Redis may have
// restarted after the first slot and before the canary got through. After
// a failed subscribe it calls restart. Else, on one node (a *redis.Client),
// it looks, bounded by timeout, whether Redis still has, each with a lease
// not yet ended, every slot held, in one pipeline: a slot taken after the
// restart says nothing of those taken before it, nor does a slot that a
// snapshot kept of those that it did not. It calls restart if a slot is
// gone while still held (one released meanwhile says nothing), if the look
// fails, or if more than maxFirstLooks slots are held. A slot held after
// the look, whose acquire was sent before it, asks a round of its own
// (see roundAsks). Any other client's
// connection is on one node of many: it calls restart, as a round looks
// for the slots of every node.
func (s *subscriber) firstConfirmed() {
	defer s.checked.Store(true)
	c, ok := s.client.(*redis.Client)
	if s.failed || !ok {
		s.restart()
		return
	}
	s.asks.mark() // an acquire answered before the look and held after it asks a round
	slots := s.held.leased(maxFirstLooks + 1)
	if len(slots) > maxFirstLooks {
		s.restart()
		return
	}
	ctx, cancel := context.WithTimeout(s.bg, s.timeout)
	defer cancel()
	live, err := liveIn(ctx, c, slots)
	switch {
	case s.bg.Err() != nil:
		return
	case err != nil:
		s.restart()
		return
	}
	for i, slot := range slots {
		if !live[i] && s.held.holds(slot) {
			s.restart()
			return
		}
	}
}

// maxFirstLooks bounds the slots the canary's first confirmation looks at.
const maxFirstLooks = 64

// liveIn reports, for each of slots, whether Redis has its member with a
// lease that has not ended by Redis's clock.
func liveIn(ctx context.Context, c *redis.Client, slots []*holding) ([]bool, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	scores := make([]*redis.FloatCmd, len(slots))
	var now *redis.TimeCmd
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error { // each command carries its own error
		for i, slot := range slots {
			scores[i] = p.ZScore(ctx, slot.ref.rkey(), slot.member)
		}
		now = p.Time(ctx)
		return nil
	})
	if now.Err() != nil {
		return nil, now.Err()
	}
	live := make([]bool, len(slots))
	for i, score := range scores {
		switch {
		case errors.Is(score.Err(), redis.Nil):
		case score.Err() != nil:
			return nil, score.Err()
		default:
			live[i] = score.Val() > float64(now.Val().UnixMilli())
		}
	}
	return live, nil
}

// resubscribe follows the keys that gained or lost local waiters, bounded by
// timeout, far below the minute go-redis holds an unread message.
func (s *subscriber) resubscribe() {
	add, remove := s.waiting.changes(s.subscribed)
	if s.watching.Load() && !s.canaryOn {
		add, s.canaryOn = append(add, s.canary), true // go-redis asks again on its reconnects
	}
	for _, ch := range remove {
		delete(s.confirmed, ch)
	}
	ctx, cancel := context.WithTimeout(s.bg, s.timeout)
	defer cancel()
	var errs []error
	if len(add) > 0 {
		if err := s.ps.Subscribe(ctx, add...); err != nil {
			errs = append(errs, fmt.Errorf("subscribe to %q: %w", add, err))
		}
	}
	if len(remove) > 0 {
		if err := s.ps.Unsubscribe(ctx, remove...); err != nil {
			errs = append(errs, fmt.Errorf("unsubscribe from %q: %w", remove, err))
		}
	}
	if len(errs) > 0 && s.bg.Err() == nil {
		s.failed = true
		s.report(errors.Join(errs...))
	}
}

// stop closes the connection, which ends the goroutine, and waits for it.
func (s *subscriber) stop() error {
	s.mu.Lock()
	s.stopped = true
	ps := s.ps
	s.mu.Unlock()
	if ps == nil {
		return nil
	}
	err := ps.Close()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("redisslot: close pub/sub connection: %w", err)
	}
	return nil
}
