package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A background free that failed before Close started is no call that Close
// cut short: OnError hears of it, even when Close comes before the next
// round's report.
func TestCloseReportsABackgroundFailureNotedBeforeIt(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var freeFailed atomic.Bool
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if freeFailed.CompareAndSwap(false, true) { // the first free: an answer that refuses it
			return failWith(cmds, errFreeRefused)
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	rel()
	eventually(t, "the free is sent and fails", func() bool {
		return freeFailed.Load() && redisslot.FreesInFlight(f.l) == 0
	})
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err) // its own free of the slot, sent again, succeeds
	}
	for _, err := range f.errs.all() {
		if errors.Is(err, errFreeRefused) {
			return
		}
	}
	t.Errorf("OnError heard %v; want the failed free reported", f.errs.all())
}

// errFreeRefused refuses a free.
var errFreeRefused = errors.New("test: free refused")
