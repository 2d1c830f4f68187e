package redisslot

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A freeSender sends the frees a release kicks, at once, on a goroutine of
// its own: not behind a renewal round, which on a Redis Cluster names every
// node that holds a slot and waits, up to Lease/3, for one that does not
// answer. It runs while frees never sent are pending, and sends them in
// batches (one call per key, one pipeline); a free whose call fails waits
// for the renewer's next round, which sends it again. The pending frees'
// in-flight marks keep a round and the sender from sending one free at once.
//
// It has one call in flight per master. On a Redis Cluster each master has a
// lane, a goroutine that runs while frees of its keys wait for it: a call
// to a master that does not answer holds up, up to its bound, only the
// frees of that master's keys. On other clients the sender's goroutine
// makes the calls itself, one at a time.
//
// Its mu guards kicked, running, stopped and lanes.
type freeSender struct {
	client  redis.UniversalClient
	frees   *pendingFrees
	bg      context.Context // ends when the Limiter closes
	bound   time.Duration   // each send: min(ReleaseTimeout, Lease/3)
	tombArg any             // the tombstones' life, as the scripts take it
	emptied func()          // a call found the script cache emptied
	settle  func([]freeBatch, []*redis.Cmd, time.Time) int
	settled chan<- struct{} // buffered 1: poked after each settle, for the renewer
	// master returns the address of the master of a slot set on a Redis
	// Cluster ("" if the client cannot tell); nil on other clients.
	master func(rkey string) string

	mu      sync.Mutex
	kicked  bool // frees came since the goroutine last took them
	running bool
	stopped bool
	lanes   map[string][]freeBatch // by master: the frees waiting for its lane, which runs while it is here
	wg      sync.WaitGroup         // the goroutine and the lanes
}

// kick has the frees never sent sent at once, starting the goroutine unless
// it runs.
func (s *freeSender) kick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kicked = true
	if !s.running && !s.stopped {
		s.running = true
		s.wg.Add(1)
		go s.run()
	}
}

// stop waits for the goroutine to end; the Limiter has ended bg.
func (s *freeSender) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *freeSender) run() {
	defer s.wg.Done()
	for s.more() {
		batches := s.frees.take(true, false)
		if s.master == nil {
			s.send(batches)
			continue
		}
		for addr, group := range s.byMaster(batches) {
			s.queue(addr, group)
		}
	}
}

// send sends batches in one pipeline, bounded by bound, and settles them.
func (s *freeSender) send(batches []freeBatch) {
	if len(batches) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.bg, s.bound)
	sent := time.Now()
	cmds := evalAll(ctx, s.client, freeCalls(nil, batches, s.tombArg), onceEmptied(s.emptied))
	freeMovedHolders(ctx, s.client, batches, cmds)
	cancel()
	s.settle(batches, cmds, sent)
	poke(s.settled) // the last frees may be settled: the renewer may be idle
}

// byMaster groups batches by the master of their keys.
func (s *freeSender) byMaster(batches []freeBatch) map[string][]freeBatch {
	groups := make(map[string][]freeBatch)
	for _, b := range batches {
		addr := s.master(b.ref.rkey())
		groups[addr] = append(groups[addr], b)
	}
	return groups
}

// queue hands group to the lane of the master at addr, starting the lane
// unless it runs.
func (s *freeSender) queue(addr string, group []freeBatch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lanes == nil {
		s.lanes = make(map[string][]freeBatch)
	}
	waiting, running := s.lanes[addr]
	s.lanes[addr] = append(waiting, group...)
	if !running {
		s.wg.Add(1)
		go s.lane(addr)
	}
}

// lane sends the frees that wait for the master at addr, one call at a
// time, until none is left.
func (s *freeSender) lane(addr string) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		batches := s.lanes[addr]
		if len(batches) == 0 {
			delete(s.lanes, addr)
		} else {
			s.lanes[addr] = nil // here: the lane runs
		}
		s.mu.Unlock()
		if len(batches) == 0 {
			return
		}
		s.send(batches)
	}
}

// more reports whether frees came since the goroutine last took them, and
// Close has not ended bg; if not, it records that the goroutine ends.
func (s *freeSender) more() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kicked && s.bg.Err() == nil {
		s.kicked = false
		return true
	}
	s.running = false
	return false
}
