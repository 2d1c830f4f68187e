package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// TryAcquire and Acquire return ctx's error when ctx is done (their doc, and
// slots.Limiter's), also when it ends while their call is on its way: a
// caller, such as slotshttp, tells a client that hung up or a deadline that
// passed from Redis out of reach by that error alone. go-redis cuts such a
// call short at ctx's deadline with a network timeout ("i/o timeout"), which
// is not ctx's error.
//
// Here Redis holds every command (CLIENT PAUSE) while each call is sent with
// a ctx whose deadline comes first: a TryAcquire of a free key, an Acquire of
// a free key, and an Acquire of a full key, which its call would have join
// the key's line.
func TestCallWhoseCtxEndsWhileItIsOnItsWayReturnsCtxsError(t *testing.T) {
	t.Parallel() // it mostly waits on a server of its own: it runs beside other such tests
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: restartLease}) // no lease ends in a pause
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "full", 1)
	defer rel()

	const deadline = 200 * time.Millisecond
	calls := []struct {
		what string
		call func(ctx context.Context) error
	}{
		{"TryAcquire of a free key", func(ctx context.Context) error { return errOf(f.l.TryAcquire(ctx, "free", 1)) }},
		{"Acquire of a free key", func(ctx context.Context) error { return errOf(f.l.Acquire(ctx, "free", 1)) }},
		{"Acquire of a full key", func(ctx context.Context) error { return errOf(f.l.Acquire(ctx, "full", 1)) }},
	}
	for _, c := range calls {
		// The pause outlasts the call's deadline by far, so that its
		// reply cannot come first, however loaded the machine.
		if err := raw.ClientPause(ctx, 5*deadline).Err(); err != nil {
			t.Fatalf("CLIENT PAUSE: %v", err)
		}
		cctx, cancel := context.WithTimeout(ctx, deadline)
		err := c.call(cctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s whose deadline passed while Redis held its call = %v; want ctx's error, %v", c.what, err, context.DeadlineExceeded)
		}
		if err := raw.Ping(ctx).Err(); err != nil { // answered once the pause ends
			t.Fatalf("PING after the pause: %v", err)
		}
	}
	// Every member the calls may have left in Redis is freed.
	eventually(t, "the calls' members are freed", func() bool { return f.l.Stats().PendingFrees == 0 })
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("OnError heard %v; want nothing", errs)
	}
}

// errOf releases a slot that a call took and returns the call's error.
func errOf(_ context.Context, rel func(), err error) error {
	if rel != nil {
		rel()
	}
	return err
}
