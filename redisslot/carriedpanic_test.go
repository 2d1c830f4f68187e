package redisslot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A try carries its key's pending frees. If its call panics on its way (a
// client hook of the caller's, say), the frees it carried are not lost:
// they go out at once, as when the call fails. Here a holds k and an
// Acquire of k on a waits, its retry timer far off; a's holder releases,
// and the waiter's try, carrying the free, panics in a client hook.
func TestFreesCarriedByATryThatPanicsAreSentAtOnce(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	redisslot.SetRetryInterval(f.l, time.Minute) // no retry while the test runs
	armed := make(chan struct{}, 1)
	redisslot.SetOnArm(f.l, func(time.Duration) { sendOrDrop(armed, struct{}{}) })
	// The hook panics on the call that carries the free of a's slot alone:
	// the waiter's other tries (its subscription's wake-up has it try once
	// more) carry nothing.
	var carrying atomic.Pointer[string]
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if m := carrying.Load(); m != nil && names(cmds[0], *m) && carrying.CompareAndSwap(m, nil) {
			panic("test: a client hook panics")
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	raw := srv.Client(t)
	member := members(t, raw, redisslot.SlotKey(f.l, "k"))[0].Member.(string)
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }() // as net/http does for a handler
		acquireAndRelease(ctx, f.l, "k", 1)
	}()
	recv(t, armed, waitAtOnce, "the waiter's first try is answered")
	carrying.Store(&member)
	rel() // handed to the waiter, whose try carries the free
	if v := recv(t, panicked, waitAtOnce, "the waiter's try panics"); v == nil {
		t.Fatal("the waiter's Acquire returned; want the client hook's panic")
	}
	eventuallyWithin(t, waitAtOnce, "the free of a's slot, carried by the try that panicked, is sent", func() bool {
		return raw.ZCard(ctx, redisslot.SlotKey(f.l, "k")).Val() == 0 && f.l.Stats().PendingFrees == 0
	})
}
