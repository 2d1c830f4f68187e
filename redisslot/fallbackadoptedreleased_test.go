package redisslot_test

import (
	"context"
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
// and only then, one by one, counts each out of its key's slots unknown to
// Redis (fallback.adopted). A holder that releases in between counts its
// slot out of the key's share first (fallback.adoptedEnded), which forgets
// the key once it has no slot left; fallback.adopted then finds no key and
// the count of unknown slots of all keys never goes back to zero, so the
// fallback state never ends: Degraded stays true, and every key with a
// share is refused (TryAcquire) or kept in the local line (Acquire) for
// good. The test holds the fallback state's lock from the moment Redis
// confirms the adoption, so that the holders release in that window; left
// to chance, it comes in about one run of five with 300 keys.
func TestFallbackSlotsReleasedAsTheirAdoptionSettlesLetTheStateEnd(t *testing.T) {
	const keys = 500 // one adoption call (batchSize)
	srv := redistest.Start(t)
	opts := srv.Options()
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	var l *redisslot.Limiter
	adopted := make(chan struct{})
	var unlock func()
	var adoptOnce, unlockOnce sync.Once
	c.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		for _, cmd := range cmds {
			if scriptOf(cmd) == redisslot.AdoptHash && cmd.Err() == nil {
				adoptOnce.Do(func() { // on the renewer's goroutine, before it settles the round
					unlock = redisslot.LockFallback(l)
					close(adopted)
				})
			}
		}
		return err
	}})
	l = redisslot.New(c, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return fbShare },
	})
	t.Cleanup(func() { _ = l.Close() })
	t.Cleanup(func() { // before Close, which needs the lock
		select {
		case <-adopted:
			unlockOnce.Do(unlock)
		default:
		}
	})
	ctx := ctxWithTimeout(t)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	releaseNow := make(chan struct{})
	var released sync.WaitGroup
	for i := range keys {
		_, rel, err := l.TryAcquire(ctx, fmt.Sprint("k", i), fbLimit)
		if err != nil {
			t.Fatalf("TryAcquire with Redis down: %v", err)
		}
		released.Add(1)
		go func() {
			defer released.Done()
			select {
			case <-releaseNow:
			case <-ctx.Done():
			}
			rel()
		}()
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	recv(t, adopted, waitAfter(fbLease), "Redis confirms the adoption of the fallback slots")
	eventually(t, "the renewer marks the fallback slots known to Redis", func() bool { return redisslot.KnownToRedis(l) == keys })
	close(releaseNow)
	eventually(t, "every holder releases", func() bool { return redisslot.Held(l) == 0 })
	// Hand the lock to the holders before the renewer's next count: the
	// renewer, woken and refused once more after waiting over 1ms, puts
	// sync.Mutex in starvation mode, which then hands the lock on in order:
	// the renewer counts one slot, then every holder waiting behind it
	// releases before it counts the next.
	time.Sleep(2 * time.Millisecond) // every waiter has waited over 1ms
	unlockOnce.Do(unlock)
	unlock = redisslot.LockFallback(l)
	eventually(t, "the renewer, woken and refused, puts the lock in starvation mode", func() bool { return redisslot.FallbackLockStarving(l) })
	unlock()
	waitAll(t, &released, waitAtOnce, "the releases return")

	bound := 3*redisslot.RenewEvery(l) + 2*time.Second // the state ends at the next round
	for end := time.Now().Add(bound); l.Stats().Degraded; time.Sleep(pollInterval) {
		if time.Now().After(end) {
			st := l.Stats()
			t.Fatalf("the fallback state is still on %v after Redis came back and every fallback slot was released (Held %d, PendingFrees %d); want it ended",
				bound, st.Held, st.PendingFrees)
		}
	}
}
