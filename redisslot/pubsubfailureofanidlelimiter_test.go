package redisslot_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A Limiter subscribes its restart canary with its first slot, on a pub/sub
// connection of its own, in the background. Its pub/sub failures are noted
// for the round's report; but only a renewer that runs reports, and a
// Limiter whose slots are all shorter than a round has stopped its renewer
// by the time a slow subscription fails. Here a Limiter takes and releases
// one slot while its pub/sub connection cannot be dialled; the dial fails
// once the slot's free is confirmed and the renewer has stopped. OnError
// must hear of the failed subscription within a few round intervals: today
// it hears nothing until Close, however long the Limiter lives.
func TestPubSubFailureOfAnIdleLimiterIsReportedBeforeClose(t *testing.T) {
	srv := redistest.Shared(t)
	var state atomic.Int32 // 0: dial; 1: hold dials until gate closes, then fail them
	gate := make(chan struct{})
	errDial := errors.New("test: pub/sub dial refused")
	opts := srv.Options()
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if state.Load() == 1 {
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return nil, errDial
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx := ctxWithTimeout(t)
	if err := redisslot.LoadScripts(ctx, client); err != nil {
		t.Fatal(err)
	}
	errs := &errLog{}
	l := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: testLease, OnError: errs.add})
	closed := false
	t.Cleanup(func() {
		if !closed {
			closeWithin(t, l, waitAfter(10*time.Second))
		}
	})
	state.Store(1) // the pooled connection is open: only the pub/sub one dials

	_, rel := mustTry(t, l, ctx, "k", 1) // starts the subscriber: its dial waits on gate
	rel()
	eventually(t, "the slot's free is confirmed and the renewer stops", func() bool {
		return l.Stats().PendingFrees == 0 && redisslot.FreesInFlight(l) == 0 && !redisslot.RenewerRunning(l)
	})
	heard := func() bool {
		for _, err := range errs.all() {
			if strings.Contains(err.Error(), "pub/sub") || strings.Contains(err.Error(), errDial.Error()) {
				return true
			}
		}
		return false
	}
	close(gate) // the canary's subscription fails now
	eventually(t, "the failed subscription is noted or reported", func() bool { return redisslot.PubSubFailuresNoted(l) > 0 || heard() })
	state.Store(0)
	noted := time.Now()
	bound := 3*redisslot.RenewEvery(l) + 2*time.Second
	for !heard() && time.Since(noted) < bound {
		time.Sleep(pollInterval)
	}
	if heard() {
		return
	}
	closeWithin(t, l, waitAfter(10*time.Second))
	closed = true
	t.Errorf("OnError heard nothing of the failed canary subscription in %v (%d round intervals) while the Limiter was idle; heard of it at Close: %v",
		bound.Round(time.Millisecond), bound/redisslot.RenewEvery(l), heard())
}
