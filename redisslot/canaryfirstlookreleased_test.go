package redisslot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The canary's first confirmation looks whether Redis still has the slot
// taken last (see TestRestartWhileTheCanarysFirstDialIsOnItsWayEndsTheOldHolders).
// A slot released while that look is on its way is gone from Redis because
// it was freed, not lost: the look asks no round. Here the look's ZSCORE is
// held until k's slot is released and its free confirmed, and another slot
// taken, so that a renewer runs to serve a round if one is asked.
func TestCanarysFirstLookAtASlotReleasedMeanwhileAsksNoRound(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	looking, goOn := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.client.AddHook(scriptHook{any: true, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		if len(cmds) > 0 && cmds[0].Name() == "zscore" {
			once.Do(func() {
				close(looking)
				select {
				case <-goOn:
				case <-hctx.Done():
				}
			})
		}
		return next()
	}})
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	recv(t, looking, waitAtOnce, "the canary's first confirmation did not look for k's slot")
	rel()
	eventually(t, "k's free is confirmed", func() bool {
		return redisslot.FreesInFlight(f.l) == 0 && f.l.Stats().PendingFrees == 0
	})
	holdAbandoned(t, f.l, ctx, "other", 1)
	rounds := f.l.Stats().RenewalRounds
	close(goOn)
	eventually(t, "the canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(f.l) })
	quietFor(t, 100, 10*time.Millisecond, func() string {
		if n := f.l.Stats().RenewalRounds; n != rounds {
			return "a renewal round ran after the canary's first look found k's slot gone, though it was released, not lost"
		}
		return ""
	})
	if n := redisslot.Held(f.l); n != 1 {
		t.Errorf("the Limiter holds %d slots; want the other one", n)
	}
}
