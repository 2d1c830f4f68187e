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
// It sends one call at a time: on a Redis Cluster, a call that names a
// master that does not answer holds up the frees kicked after it, up to
// its bound.
//
// Its mu guards kicked, running and stopped.
type freeSender struct {
	client  redis.UniversalClient
	frees   *pendingFrees
	bg      context.Context // ends when the Limiter closes
	bound   time.Duration   // each send: min(ReleaseTimeout, Lease/3)
	tombArg any             // the tombstones' life, as the scripts take it
	emptied func()          // a call found the script cache emptied
	settle  func([]freeBatch, []*redis.Cmd) int
	settled chan<- struct{} // buffered 1: poked after each settle, for the renewer

	mu      sync.Mutex
	kicked  bool // frees came since the goroutine last took them
	running bool
	stopped bool
	wg      sync.WaitGroup // the goroutine
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
		if len(batches) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(s.bg, s.bound)
		cmds := evalAll(ctx, s.client, freeCalls(nil, batches, s.tombArg), onceEmptied(s.emptied))
		cancel()
		s.settle(batches, cmds)
		poke(s.settled) // the last frees may be settled: the renewer may be idle
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
