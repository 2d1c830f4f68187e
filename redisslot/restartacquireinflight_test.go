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

// When a Limiter learns of a Redis restart (here its pub/sub connection
// comes back), it runs a round at once, which ends the slots it holds that
// the restart lost. An acquire that the old Redis admitted, but whose reply
// is still on its way when that round runs, is not in the round: its slot,
// lost in the restart too, is then kept live when the reply arrives (well
// within its life), and nothing looks at it again before the Limiter's
// next round, Lease/3 later.
//
// Here a holds a warm-up slot (its canary confirmed). a's TryAcquire of k
// (limit 1) is admitted by Redis, and its reply held in a hook of a's
// client, after go-redis read it and before the acquire sees it: on its
// way. Redis is killed and restarted empty; a's pub/sub connection comes
// back, and a's round ends the warm-up slot (ErrLeaseLost). a goes on: its
// next slot, on the restarted Redis, finds the scripts gone, so a runs
// another round and tells the others. The hook lets the reply go: a's
// TryAcquire returns k, live. b then takes k too (limit 1), as the
// restarted Redis has no holder of it; its acquire finds the scripts
// loaded, so it tells nobody. a's holder of k must end within
// restartBound, as the restart's other holders did (guarantee 5); it lives
// on beside b's until a's next round, Lease/3 (20s) later.
func TestRestartFoundWhileAnAcquiresReplyIsOnItsWayEndsItsSlot(t *testing.T) {
	srv := redistest.Start(t)
	b := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)

	client := redis.NewClient(srv.Options())
	count := &redistest.Counter{}
	client.AddHook(count)
	t.Cleanup(func() { _ = client.Close() })
	if err := redisslot.LoadScripts(ctx, client); err != nil {
		t.Fatal(err)
	}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: longLease, OnError: (&errLog{}).add})
	t.Cleanup(func() { closeWithin(t, a, waitAfter(10*time.Second)) })
	// a's acquire of k is answered, and its reply held on its way.
	rkeyK := redisslot.SlotKey(a, "k")
	replied, hold := make(chan struct{}), make(chan struct{})
	letReplyGo := sync.OnceFunc(func() { close(hold) })
	t.Cleanup(letReplyGo) // before a closes
	client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(_ context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		if args := cmds[0].Args(); len(args) > 3 && args[3] == rkeyK {
			close(replied)
			<-hold // read by go-redis, not yet seen by the acquire
		}
		return err
	}})

	warm, relWarm := mustTry(t, a, ctx, "warm", 1)
	defer relWarm()
	eventually(t, "a's restart canary is subscribed", func() bool { return redisslot.CanaryConfirmed(a) })
	// Its first look is done before the acquire.
	eventually(t, "a's canary's first confirmation looked into", func() bool { return redisslot.CanaryChecked(a) })

	type result struct {
		sctx context.Context
		rel  func()
		err  error
	}
	got := make(chan result, 1)
	go func() {
		sctx, rel, err := a.TryAcquire(ctx, "k", 1)
		got <- result{sctx, rel, err}
	}()
	recv(t, replied, waitAtOnce, "Redis did not answer a's acquire of k")
	direct := srv.Client(t)
	if n, err := direct.ZCard(ctx, rkeyK).Result(); err != nil || n != 1 {
		t.Fatalf("ZCARD of k's slot set after Redis answered a's acquire = %d, %v; want a's member", n, err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil { // empty: a's slots of warm and k are forgotten
		t.Fatal(err)
	}
	recv(t, warm.Done(), waitAtOnce, "a did not end its warm-up slot, lost in the restart, once its pub/sub connection came back")
	// a goes on serving: its next slot, on the restarted Redis (over a new
	// connection), finds the scripts gone; a runs a round at once and tells
	// the others.
	_, relNext := mustTry(t, a, ctx, "next", 1)
	defer relNext()
	eventually(t, "a's restart message, sent by the round its call asked for", func() bool {
		return count.ByName("publish") > 0 && redisslot.TellerIdle(a) // sent by that round, which took the poke
	})
	letReplyGo()
	var r result
	select {
	case r = <-got:
	case <-time.After(waitAtOnce):
		t.Fatal("a's TryAcquire did not return once its reply was let go")
	}
	if r.err != nil {
		t.Fatalf("a's TryAcquire of k, admitted by Redis seconds ago, = %v; want the slot (its life is %v)", r.err, redisslot.Life(a))
	}
	defer r.rel()
	_, relB, err := b.l.TryAcquire(ctx, "k", 1)
	if err != nil {
		t.Fatalf("b's TryAcquire of k, which the restarted Redis has no holder of: %v; want a slot", err)
	}
	defer relB()
	taken := time.Now()

	select {
	case <-r.sctx.Done():
		if got := context.Cause(r.sctx); got != redisslot.ErrLeaseLost {
			t.Errorf("a's slot of k ended with cause %v; want ErrLeaseLost", got)
		}
	case <-time.After(restartBound):
		t.Fatalf("a's slot of k, admitted by Redis before its restart, still held %v after b took k (limit 1): two holders; a's rounds are %v apart",
			time.Since(taken).Round(time.Millisecond), redisslot.RenewEvery(a))
	}
}
