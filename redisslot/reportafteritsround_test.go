package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// errRenewalRefused is the answer the report test gives one renewal.
var errRenewalRefused = errors.New("test: renewal refused")

// OnError hears a round's trouble once that round ends, before the next
// round is sent: not a round later when the round before it took longer.
// Here the first round is held up for a whole round interval, so that the
// second, which fails, follows it at once, and the third looks whether
// OnError has heard of that failure. (Held up for less, a second round
// that starts late by the rest would have its report sent by the old rule
// too: a round interval since the last report.)
//
// The slot's lease, confirmed by the first round, lasts past the third
// round by a third of a Lease minus the margin (1.7s): a timer late on a
// loaded machine does not let it lapse, which would leave no round to send.
func TestTroubleOfARoundIsReportedBeforeTheNextRound(t *testing.T) {
	t.Parallel() // it mostly waits for rounds: it runs beside other such tests
	srv := redistest.Shared(t)
	const lease = 6 * time.Second // a round every 2s
	errs := &errLog{}
	var rounds atomic.Int64
	heard := make(chan bool, 1)
	f := newFixture(t, srv, redisslot.Options{Lease: lease, OnError: errs.add})
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		switch rounds.Add(1) {
		case 1:
			time.Sleep(lease / 3) // the fault: this round takes a round interval
		case 2:
			return failWith(cmds, errRenewalRefused)
		case 3:
			heard <- errs.has(errRenewalRefused)
		}
		return next()
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	if !recv(t, heard, waitAtOnce, "no third round") {
		t.Errorf("OnError had not heard of the second round's failed renewal when the third round was sent (it heard %v); want each round's trouble reported as the round ends", errs.all())
	}
}
