package redisslot

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// restartChannel is the restart canary's channel: one for every Prefix,
// which all lose their slots in a restart, while one Prefix's call may
// load the scripts again before another's finds them gone. Earlier
// versions used Prefix+"restarts".
const restartChannel = "redisslot:restarts"

// A teller sends a Limiter's restart messages: when a call of the Limiter
// finds Redis's script cache emptied, it publishes the Limiter's instance id
// on the restart canary's channel (see subscriber), so that every other
// Limiter on that Redis, of every Prefix (the script cache is the server's),
// looks for the slots a restart or a failover lost, even one whose pub/sub
// connection it did not break (on a Redis Cluster, one on another node). One emptied cache is found by each script in turn,
// so it sends at most one message a round interval; and it sends in the
// background, so that a node that does not answer (PUBLISH goes to any
// node of a cluster) costs no renewal. A message wanted within a round
// interval of the last goes out a round later: one more round for every
// Limiter, where dropping it could leave a second restart untold.
//
// want may be called by any goroutine; send only by the renewer's rounds,
// one at a time; stop once the Limiter's bg has ended.
type teller struct {
	client redis.UniversalClient
	bg     context.Context // ends when the Limiter closes
	canary string          // the channel
	self   string          // the message: this Limiter's instance id
	every  time.Duration   // at most one message this often, each bounded by it
	report func(error)     // notes a failed message for the round's report

	wanted   atomic.Bool // a call found the cache emptied since the last message
	inFlight atomic.Bool
	last     time.Time // when the last message was sent; the rounds' own
	wg       sync.WaitGroup
}

// want asks for a message at the next round.
func (t *teller) want() { t.wanted.Store(true) }

// send publishes the message in the background if one is wanted, none is
// in flight, and none went out within every; else a wanted message waits
// for a later round (a second emptied cache must be told too). A failed one
// is wanted again.
func (t *teller) send() {
	if !t.wanted.Load() || t.inFlight.Load() || time.Since(t.last) < t.every {
		return
	}
	t.wanted.Store(false)
	t.last = time.Now()
	t.inFlight.Store(true)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer t.inFlight.Store(false)
		ctx, cancel := context.WithTimeout(t.bg, t.every)
		defer cancel()
		if err := t.client.Publish(ctx, t.canary, t.self).Err(); err != nil && t.bg.Err() == nil {
			t.wanted.Store(true)
			t.report(fmt.Errorf("tell the other Limiters of an emptied script cache on %q: %w", t.canary, err))
		}
	}()
}

// busy reports whether a message is wanted or in flight: one that fails
// is wanted again, for a later round.
func (t *teller) busy() bool { return t.wanted.Load() || t.inFlight.Load() }

// stop waits for a message in flight.
func (t *teller) stop() { t.wg.Wait() }
