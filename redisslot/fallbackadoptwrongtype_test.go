package redisslot_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A key whose slot set was overwritten from outside (no sorted set any
// more) costs its own holders their slots: the renewal script reports them
// lost. Its fallback slot must be lost the same way, and must not block
// the other keys: if the adopt script's ZADD failed the whole call
// (WRONGTYPE), every round's adoption would be refused, and the fallback
// state, which ends only with a round in which all calls get through,
// would never end; every key with a share would be refused by TryAcquire
// (the share grants nothing once Redis answers) for as long as that one
// fallback slot is held, though Redis has room.
func TestFallbackSlotOfAnOverwrittenKeyDoesNotKeepOtherKeysRefused(t *testing.T) {
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	errs := &errLog{}
	l := fbLimiter(t, srv, p.Addr, errs)
	ctx := ctxWithTimeout(t)
	direct := srv.Client(t)
	p.Freeze()
	sctx, rel, err := l.TryAcquire(ctx, "overwritten", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire with Redis cut off = %v; want a slot from the share", err)
	}
	defer rel()
	if err := direct.Set(ctx, redisslot.SlotKey(l, "overwritten"), "not a slot set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	p.Thaw()
	bound := 3*redisslot.RenewEvery(l) + 2*time.Second // it ends at the first round that gets through
	for end := time.Now().Add(bound); l.Stats().Degraded; time.Sleep(pollInterval) {
		if time.Now().After(end) {
			_, _, err := l.TryAcquire(ctx, "other", fbLimit)
			all := errs.all()
			t.Fatalf("the fallback state is still on %v after Redis answered again (last report: %v); TryAcquire of another key, with no holder = %v; want the state ended and a slot",
				bound, all[len(all)-1], err)
		}
	}
	_, rel2, err := l.TryAcquire(ctx, "other", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire of another key, with no holder, once the state ended = %v; want a slot", err)
	}
	rel2()
	// The slot Redis could not write is lost, as a renewal would find it.
	recv(t, sctx.Done(), waitAtOnce, "the holder of the slot of the overwritten key hears it is lost")
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Errorf("the overwritten key's slot ended with %v; want ErrLeaseLost", got)
	}
}
