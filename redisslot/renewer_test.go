package redisslot_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// renewLease is the Lease of the renewer's timing tests: renewals every
// 500ms, against 750ms if they ran every Lease/2.
const renewLease = 1500 * time.Millisecond

// Renewal runs every Lease/3. Load can only delay a round, so the shortest
// gap between rounds is the one to check.
func TestRenewalRunsEveryThirdOfTheLease(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: renewLease})
	var mu sync.Mutex
	var sent []time.Time
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		mu.Lock()
		sent = append(sent, time.Now())
		mu.Unlock()
		return next()
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	eventuallyWithin(t, waitAfter(5*redisslot.RenewEvery(f.l)), "five renewal rounds", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sent) >= 5
	})
	mu.Lock()
	var gaps []time.Duration
	for i := 1; i < len(sent); i++ {
		gaps = append(gaps, sent[i].Sub(sent[i-1]))
	}
	mu.Unlock()
	shortest := slices.Min(gaps)
	third, half := renewLease/3, renewLease/2
	if shortest < third-20*time.Millisecond || shortest > (third+half)/2 {
		t.Errorf("shortest gap between renewal rounds %v (gaps %v); want Lease/3 = %v", shortest, gaps, third)
	}
}

// The local lease clock counts from when a renewal was sent, not from when
// its reply came: with a reply delayed by half a Lease and every later
// renewal failing, the slot is lost its life (Lease minus the margin)
// after that renewal was sent.
func TestLeaseClockCountsFromWhenARenewalWasSent(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: renewLease})
	const replyDelay = renewLease / 2
	life := redisslot.Life(f.l)
	errInjected := errors.New("test: renewal failed")
	var mu sync.Mutex
	var firstSent time.Time
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		mu.Lock()
		first := firstSent.IsZero()
		if first {
			firstSent = time.Now()
		}
		mu.Unlock()
		if !first {
			return failWith(cmds, errInjected)
		}
		err := next()
		time.Sleep(replyDelay) // the reply comes late
		return err
	}})
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	recv(t, sctx.Done(), waitAfter(life+replyDelay), "slot not lost with its renewals failing")
	lost := time.Now()
	mu.Lock()
	sent := firstSent
	mu.Unlock()
	// The Limiter reads its clock just before the hook sees the call, so the
	// loss may come a hair under its life after the hook's stamp. A clock
	// counting from the acquire would lose the slot a third of a Lease
	// early; one counting from the reply, half a Lease late. The bounds sit
	// halfway to each.
	if d := lost.Sub(sent); d < life-renewLease/6 || d > life+replyDelay/2 {
		t.Errorf("slot lost %v after its last good renewal was sent (reply %v later); want its life %v after it was sent", d, replyDelay, life)
	}
}

// A key shared by Limiters with different Leases expires with its longest
// lease: the renewal of a short lease does not shorten the key's life.
func TestKeySharedByDifferentLeasesExpiresWithTheLongest(t *testing.T) {
	srv := redistest.Shared(t)
	long := newFixture(t, srv, redisslot.Options{Lease: longLease})
	short := newFixture(t, srv, redisslot.Options{Lease: renewLease, Prefix: testPrefix(t)})
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, long.l, ctx, "k", 2)
	defer rel1()
	_, rel2 := mustTry(t, short.l, ctx, "k", 2)
	defer rel2()
	redisslot.RenewNow(short.l)
	ttl, err := srv.Client(t).PTTL(ctx, testPrefix(t)+"{k}").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < longLease/2 {
		t.Errorf("key expires in %v after the short lease's renewal; want the long lease's %v", ttl, longLease)
	}
}
