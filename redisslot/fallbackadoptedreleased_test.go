package redisslot_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Fallback slots released while the round that adopted them settles: the
// renewer marks them known to Redis in the lease clock (leaseClock.adopt)
// and only then counts each out of its key's slots unknown to Redis
// (fallback.adopted). A holder that releases in between counts its slot
// out of the key's share first (fallback.adoptedEnded); if that forgot the
// key, fallback.adopted would find no key, the count of unknown slots of
// all keys would never go back to zero, and the fallback state would never
// end: Degraded true, and every key with a share refused (TryAcquire) or
// kept in the local line (Acquire) for good. The holders here release in
// that window, from a hook the renewer calls there; left to chance, it
// came in about one run of five with 300 keys.
func TestFallbackSlotsReleasedAsTheirAdoptionSettlesLetTheStateEnd(t *testing.T) {
	const keys = 50
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	l := redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return fbShare },
	})
	t.Cleanup(func() { _ = l.Close() })
	ctx := ctxWithTimeout(t)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	var rels []func()
	for i := range keys {
		_, rel, err := l.TryAcquire(ctx, fmt.Sprint("k", i), fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis down: %v", err)
		}
		rels = append(rels, rel)
	}
	var once sync.Once
	released := make(chan int, 1)
	redisslot.SetOnAdopt(l, func() {
		once.Do(func() {
			known := redisslot.KnownToRedis(l)
			for _, rel := range rels {
				rel()
			}
			released <- known
		})
	})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if known := recv(t, released, waitAfter(fbLease), "Redis confirms the adoption of the fallback slots"); known != keys {
		t.Fatalf("%d slots known to Redis when the adoption settles; want %d", known, keys)
	}

	bound := 3*redisslot.RenewEvery(l) + 2*time.Second // the state ends at the next round
	for end := time.Now().Add(bound); l.Stats().Degraded; time.Sleep(pollInterval) {
		if time.Now().After(end) {
			st := l.Stats()
			t.Fatalf("the fallback state is still on %v after Redis came back and every fallback slot was released (Held %d, PendingFrees %d); want it ended",
				bound, st.Held, st.PendingFrees)
		}
	}
}
