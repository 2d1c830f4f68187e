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
// taken last, and asks no round when that slot was released while the look
// was on its way (TestCanarysFirstLookAtASlotReleasedMeanwhileAsksNoRound).
// But a slot released meanwhile says nothing of the others: a restart
// before the look lost them as much as it lost the one released, and the
// look, having found no slot it still holds gone, asks no round. Their
// holders live on beside the new ones until the next round, Lease/3 later.
//
// Here a takes k and then j (limit 1 each) while the network holds every
// new connection of a's, its pub/sub connection among them (the in-test
// proxy, frozen, as in
// TestRestartBeforeTheCanarysSubscribeReachesRedisEndsTheOldHolders).
// Redis restarts empty; another instance, starting, loads the scripts, so
// that no call of a's or b's finds them gone (the case of the tests of
// commit 633673f); b takes k. The partition heals: a's canary is confirmed
// for the first time, on the restarted Redis, and its look for j, the slot
// taken last, is held (a hook on a's client) until j is released and its
// free confirmed. a's holder of k, lost in the restart, must end within
// restartBound of the look.
func TestRestartBeforeTheCanarysFirstLookAtASlotReleasedMeanwhileEndsTheOtherOldHolders(t *testing.T) {
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)

	// a's first connection, its pool's, goes straight to Redis; every later
	// one, its pub/sub connection among them, through the proxy.
	client, ld := lateDialClient(t, srv, p, waitLong)
	looking, goOn := make(chan struct{}), make(chan struct{})
	var once sync.Once
	client.AddHook(scriptHook{any: true, fn: func(hctx context.Context, cmds []redis.Cmder, next func() error) error {
		if len(cmds) > 0 && cmds[0].Name() == "zscore" { // the canary's first look
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
	if err := redisslot.LoadScripts(ctx, client); err != nil { // opens the pooled connection
		t.Fatal(err)
	}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, ReleaseTimeout: waitLong, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(2*waitLong)) })
	ld.viaProxy.Store(true)
	p.Freeze() // a's new connections are held: the partition

	old, relOld := mustTry(t, a, ctx, "k", 1)
	defer relOld()
	recv(t, ld.dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")
	_, relLast := mustTry(t, a, ctx, "j", 1)

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: a's slots of k and j are forgotten
		t.Fatal(err)
	}
	if err := redisslot.LoadScripts(ctx, raw); err != nil { // another instance, starting
		t.Fatal(err)
	}
	_, relNew := mustTry(t, b.l, ctx, "k", 1)
	defer relNew()
	p.Thaw() // a's pub/sub connection reaches the restarted Redis
	recv(t, looking, waitAtOnce, "the canary's first confirmation did not look for j's slot")
	relLast()
	eventually(t, "j's free is confirmed", func() bool {
		return redisslot.FreesInFlight(a) == 0 && a.Stats().PendingFrees == 0
	})
	close(goOn)
	eventually(t, "the canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(a) })
	looked := time.Now()

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k that the restart lost still held %v after a's canary's first look, which found j's slot released, while b holds k (limit 1): two holders; a's next round is %v after its acquire",
			time.Since(looked).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}
