package redisslot_test

import (
	"context"
	"strings"
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
		err := next()
		if err != nil {
			freeFailed.Store(true)
		}
		return err
	}})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	// The key's queue turned into a string: the free removes the slot, then
	// fails with WRONGTYPE when it looks for waiters to wake.
	queue, _ := redisslot.QueueKeys(f.l, "k")
	if err := raw.Set(ctx, queue, "x", longLease).Err(); err != nil {
		t.Fatalf("SET %s: %v", queue, err)
	}
	rel()
	eventually(t, "the free is sent and fails", func() bool {
		return freeFailed.Load() && redisslot.FreesInFlight(f.l) == 0
	})
	if err := f.l.Close(); err != nil {
		t.Fatalf("Close: %v", err) // its own free of the slot, sent again, succeeds
	}
	for _, err := range f.errs.all() {
		if strings.Contains(err.Error(), "WRONGTYPE") {
			return
		}
	}
	t.Errorf("OnError heard %v; want the failed free (WRONGTYPE) reported", f.errs.all())
}
