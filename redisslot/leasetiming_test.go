package redisslot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A renewal round that stalls (its connection hangs while Redis is up)
// ends at Lease/3, so the next round goes out in time and the live holder
// keeps its slot: a round bounded by a whole Lease would run past the
// slot's deadline.
func TestLiveHolderSurvivesAStalledRenewalRound(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: renewLease})
	var stalled atomic.Bool
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if stalled.CompareAndSwap(false, true) {
			<-ctx.Done() // the first round hangs until its bound
			return failWith(cmds, ctx.Err())
		}
		return next()
	}})
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	rounds := f.l.Stats().RenewalRounds
	eventually(t, "three renewal rounds, or the slot lost", func() bool {
		return f.l.Stats().RenewalRounds >= rounds+3 || sctx.Err() != nil
	})
	if err := context.Cause(sctx); err != nil {
		t.Fatalf("the live holder lost its slot after one stalled round: %v", err)
	}
}

// A new slot's lease clock counts from when its acquire was sent, not from
// when the reply came: with the reply delayed and every renewal failing,
// the slot ends its life after the acquire was sent.
func TestLeaseClockOfANewSlotCountsFromItsAcquireSend(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: renewLease})
	const replyDelay = renewLease / 2
	var sentAt time.Time
	var once sync.Once
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		once.Do(func() { sentAt = time.Now() })
		err := next()
		time.Sleep(replyDelay) // the reply comes late
		return err
	}})
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return failWith(cmds, errors.New("test: renewal failed"))
	}})
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	select {
	case <-sctx.Done():
	case <-time.After(waitAfter(renewLease)):
		t.Fatalf("slot not lost within %v with its renewals failing", waitAfter(renewLease))
	}
	life := redisslot.Life(f.l)
	// One counting from the reply would lose it half a Lease late; the
	// bound sits halfway.
	if d := time.Since(sentAt); d > life+replyDelay/2 {
		t.Errorf("slot lost %v after its acquire was sent (reply %v later); want its life %v after the send", d, replyDelay, life)
	}
}

// A slot's context is done before the call that frees it is sent. The
// SlotEnded hook holds up the release until that call has gone out: a
// release that sent its free first would be caught with its context still
// live when the call was sent.
func TestSlotContextIsDoneBeforeItsFreeIsSent(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var sctx context.Context
	var liveAtSend atomic.Int64
	sent := make(chan struct{})
	closeSent := sync.OnceFunc(func() { close(sent) })
	t.Cleanup(closeSent)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if sctx.Err() == nil {
			liveAtSend.Add(1)
		}
		closeSent()
		return next()
	}})
	f.l.AddHook(redisslot.Hook{SlotEnded: func(redisslot.SlotEvent) {
		select {
		case <-sent:
		case <-time.After(waitAtOnce):
		}
	}})
	var rel func()
	sctx, rel = mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	rel()
	select {
	case <-sent:
	case <-time.After(waitAtOnce):
		t.Fatalf("no free sent within %v of the release", waitAtOnce)
	}
	if n := liveAtSend.Load(); n != 0 {
		t.Errorf("the free was sent while the slot's context was live; want the context done first")
	}
}
