package redisslot_test

import (
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A key whose tombstones key, or whose queue, was overwritten from outside
// (no sorted set any more) must not keep the fallback state on either: the
// adopt script treats such a key's slots as lost, and the free of the
// acquire that met the outage (an unsure member: Redis may run that acquire
// late), which writes a tombstone and takes the member out of the queue,
// must not be refused WRONGTYPE every round. The state ends only after a
// round in which every call got through, and while it is on and Redis
// answers the share grants nothing: TryAcquire of every key with a share
// would be refused ErrFull, though Redis has room.
func TestFallbackStateEndsWithAnOverwrittenTombstonesKey(t *testing.T) {
	for _, c := range []struct {
		name string
		key  func(l *redisslot.Limiter, key string) string
	}{
		{"tombstones", redisslot.TombstoneKey},
		{"queue", func(l *redisslot.Limiter, key string) string { order, _ := redisslot.QueueKeys(l, key); return order }},
	} {
		t.Run(c.name, func(t *testing.T) { testFallbackStateEndsWithAnOverwrittenKey(t, c.key) })
	}
}

func testFallbackStateEndsWithAnOverwrittenKey(t *testing.T, overwrite func(l *redisslot.Limiter, key string) string) {
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	errs := &errLog{}
	l := fbLimiter(t, srv, p.Addr, errs)
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	_, warm := mustTry(t, l, ctx, "warm", fbLimit) // opens the pooled connection: the next acquire is sent
	warm()
	eventually(t, "the warm-up free is sent", func() bool { return l.Stats().PendingFrees == 0 })

	p.Freeze()
	_, rel, err := l.TryAcquire(ctx, "overwritten", fbLimit) // its acquire is sent and unanswered: an unsure free
	if err != nil {
		t.Fatalf("TryAcquire with Redis cut off = %v; want a slot from the share", err)
	}
	rel()
	if !l.Stats().Degraded {
		t.Fatal("the fallback state is off after a slot from the share; want it on")
	}
	if err := direct.Set(ctx, overwrite(l, "overwritten"), "no sorted set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	p.Thaw()
	bound := 3*redisslot.RenewEvery(l) + 2*time.Second // it ends at the first round that gets through
	for end := time.Now().Add(bound); l.Stats().Degraded; time.Sleep(pollInterval) {
		if time.Now().After(end) {
			_, _, err := l.TryAcquire(ctx, "other", fbLimit)
			all := errs.all()
			t.Fatalf("the fallback state is still on %v after Redis answered again (pending frees %d, last report: %v); TryAcquire of another key, with no holder = %v; want the state ended and a slot",
				bound, l.Stats().PendingFrees, all[len(all)-1], err)
		}
	}
	_, rel2, err := l.TryAcquire(ctx, "other", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire of another key, with no holder, once the state ended = %v; want a slot", err)
	}
	rel2()
}
