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

// The first Limiter to find Redis's scripts gone tells the others on the
// restart canary, from its renewer's rounds; a failed message is wanted
// again, for a later round. But a renewer runs only while its Limiter holds
// slots or has frees to send, and runs a round only after a round interval
// of that: a Limiter whose slots are shorter never sends the message again.
// Meanwhile its call has loaded the scripts again, so no other call finds
// them gone, and nobody tells. Here the emptied cache of a restart that
// broke no pub/sub connection (as a Redis Cluster node's restart does for
// a canary on another node) is made by SCRIPT FLUSH and FLUSHALL. b finds
// it, takes and releases k, and its restart message fails; then PUBLISH
// works again, and c takes k (limit 1) beside a's holder, which the
// restart lost. a's holder must end within a few of b's round intervals:
// today it lives on until a's own next round, a third of a Lease (20s)
// after its acquire, while b's message waits for a round that never comes.
func TestFailedRestartMessageOfALimiterWithOnlyShortSlotsIsSentAgain(t *testing.T) {
	srv := redistest.Start(t)
	ctx := ctxWithTimeout(t)
	a := newFixture(t, srv, redisslot.Options{Lease: longLease})
	b := newFixture(t, srv, redisslot.Options{Lease: testLease})
	c := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var failPublish atomic.Bool
	errNoPub := errors.New("test: PUBLISH refused")
	b.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if failPublish.Load() && cmds[0].Name() == "publish" {
			return failWith(cmds, errNoPub)
		}
		return next()
	}})
	old, relOld := mustTry(t, a.l, ctx, "k", 1)
	defer relOld()
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a.l) })
	warmUp(t, b.l)

	raw := srv.Client(t)
	if err := raw.FlushAll(ctx).Err(); err != nil { // a's slot of k is gone
		t.Fatal(err)
	}
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	failPublish.Store(true)
	_, relB := mustTry(t, b.l, ctx, "k", 1) // finds the acquire script gone: a round, whose message fails
	eventually(t, "b's restart message fails", func() bool {
		return redisslot.PubSubFailuresNoted(b.l) > 0 || b.errs.has(errNoPub)
	})
	eventually(t, "b's failed message no longer in flight", func() bool { return redisslot.TellerIdle(b.l) })
	relB()
	failPublish.Store(false)
	eventually(t, "b's renewer stops, its slot freed", func() bool {
		return b.l.Stats().PendingFrees == 0 && redisslot.FreesInFlight(b.l) == 0 && !redisslot.RenewerRunning(b.l)
	})

	_, relC := mustTry(t, c.l, ctx, "k", 1) // answered by the scripts b loaded: no NOSCRIPT
	defer relC()
	taken := time.Now()
	bound := 3*time.Second + 3*redisslot.RenewEvery(b.l)
	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(bound):
		t.Fatalf("a's slot of k, gone from Redis, still held %v after c took k (limit 1): two holders; b's failed restart message was not sent again (b's round interval %v, a's next round %v after its acquire)",
			time.Since(taken).Round(time.Millisecond), redisslot.RenewEvery(b.l), redisslot.RenewEvery(a.l))
	}
}
