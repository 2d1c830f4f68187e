package redisslot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A Redis restart with persistence restores a prefix of its writes: the
// slots taken before its snapshot, and none taken after. The canary's first
// confirmation on the restarted Redis looks whether Redis still has the
// slots held (subscriber.firstConfirmed). A look at the slot whose lease was
// set last would not do: a round renews every slot at once, and after it
// that slot is any of them, one the snapshot kept as likely as not. The
// slot taken last, lost, would live on beside another instance's until a's
// next round, Lease/3 after its last.
//
// Here a's new connections are held (the in-test proxy, frozen, as in
// TestRestartBeforeTheCanarysSubscribeReachesRedisEndsTheOldHolders). a
// takes j0 to j6; Redis saves (SAVE); a takes k (limit 1), and a round
// renews all eight slots. Redis is killed and started from the snapshot: the
// j are back, their leases live, and k is gone. Another instance loads the
// scripts and b takes k. The partition heals: a's canary is confirmed for
// the first time, and a's holder of k must end within restartBound.
func TestRestartBeforeTheCanarysFirstLookAfterARoundEndsTheHolderOfTheSlotTakenLast(t *testing.T) {
	t.Parallel() // it mostly waits: it runs beside other such tests
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	b := newFixture(t, srv, redisslot.Options{Lease: restartLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	long, cancelLong := context.WithTimeout(context.Background(), waitAfter(2*restartLease))
	defer cancelLong()

	// a's first connection, its pool's, goes straight to Redis; every later
	// one, its pub/sub connection among them, through the proxy.
	client, ld := lateDialClient(t, srv, p, 2*restartLease)
	if err := redisslot.LoadScripts(ctx, client); err != nil { // opens the pooled connection
		t.Fatal(err)
	}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: restartLease, ReleaseTimeout: 2 * restartLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(4*restartLease)) })
	ld.viaProxy.Store(true)
	p.Freeze() // a's new connections are held: the partition

	for i := range 7 {
		_, rel := mustTry(t, a, long, fmt.Sprint("j", i), 1)
		defer rel()
	}
	recv(t, ld.dialing, waitAtOnce, "a's subscriber did not dial its pub/sub connection after its first slot")
	if err := raw.Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	old, rel := mustTry(t, a, long, "k", 1)
	defer rel()
	redisslot.RenewNow(a) // every lease set at once
	if err := old.Err(); err != nil {
		t.Fatalf("a's slot of k ended (%v) at the round; want it renewed", context.Cause(old))
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // from the snapshot
		t.Fatal(err)
	}
	if n := raw.Exists(ctx, redisslot.SlotKey(a, "k")).Val(); n != 0 {
		t.Fatalf("k's slot set is in Redis after the restart; want it gone: the snapshot was taken before a took k")
	}
	for i := range 7 {
		if ms := members(t, raw, redisslot.SlotKey(a, fmt.Sprint("j", i))); len(ms) != 1 || ms[0].Score <= redisNowMs(t, raw) {
			t.Fatalf("j%d's slot set holds %v after the restart; want a's member, live", i, ms)
		}
	}
	// Another instance, starting, loads the scripts: b's acquire finds
	// them, runs no round at once and tells nobody.
	if err := redisslot.LoadScripts(ctx, raw); err != nil {
		t.Fatal(err)
	}
	_, relNew := mustTry(t, b.l, ctx, "k", 1)
	defer relNew()
	p.Thaw() // a's pub/sub connection reaches the restarted Redis
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	subscribed := time.Now()
	eventually(t, "a looks into its canary's first confirmation", func() bool { return redisslot.CanaryChecked(a) })

	select {
	case <-old.Done():
		if got := context.Cause(old); got != redisslot.ErrLeaseLost {
			t.Errorf("old slot's cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, taken after the snapshot the restart restored, still held %v after a's canary was first confirmed on the restarted Redis, while b holds k (limit 1): two holders; a's next round is %v after its last",
			time.Since(subscribed).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}
