package redisslot_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Options.MaxWaitersFor promises to be called at most once per Acquire
// call, never again while the call waits or retries, as it may be slow. An
// Acquire that waits in its key's fallback line while Redis is down asks
// it for the line's cap; when Redis answers again the line goes back to
// Redis, and the call, finding the key full there (the fallback slots it
// waited behind are now in Redis), asks it again before it joins the
// key's queue in Redis: two calls for one Acquire.
func TestMaxWaitersForIsCalledOncePerAcquireThroughAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	var asked atomic.Int64
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback:      func(string, int) int { return fbShare },
		MaxWaitersFor: func(string, int) int { asked.Add(1); return 10 },
	})
	t.Cleanup(func() { closeWithin(t, l, waitAfter(10*time.Second)) })
	ctx := ctxWithTimeout(t)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	var rels []func()
	for i := range fbShare { // the key's whole share, from the fallback
		_, rel, err := l.TryAcquire(ctx, "k", fbShare)
		if err != nil {
			t.Fatalf("TryAcquire %d with Redis down: %v; want a slot from the share", i, err)
		}
		rels = append(rels, rel)
	}
	out := make(chan outcome, 1)
	go func() {
		_, rel, err := l.Acquire(ctx, "k", fbShare)
		out <- outcome{0, time.Now(), rel, err}
	}()
	eventually(t, "the Acquire waits in the fallback line", func() bool { return l.Stats().Waiting == 1 })
	if n := asked.Load(); n != 1 {
		t.Fatalf("MaxWaitersFor called %d times by an Acquire waiting in the fallback line; want 1", n)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The state ends once Redis knows the fallback slots; the waiter then
	// goes to Redis, finds the key full, and waits in its queue there.
	eventuallyWithin(t, waitAfter(fbLease), "the fallback state ends and the waiter waits in Redis's queue", func() bool {
		return !l.Stats().Degraded && waiting(t, l, "k") == 1
	})
	if n := asked.Load(); n != 1 {
		t.Errorf("MaxWaitersFor called %d times for one Acquire call that waited through an outage; want at most 1", n)
	}
	for _, rel := range rels {
		rel()
	}
	o := nextOutcome(t, out)
	if o.err != nil {
		t.Fatalf("Acquire: %v", o.err)
	}
	o.rel()
}
