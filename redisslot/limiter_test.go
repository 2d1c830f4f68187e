package redisslot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

func TestTryAcquireReturnsErrFullAtOnceWhenFull(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, f.l, ctx, "k", 2)
	defer rel1()
	_, rel2 := mustTry(t, f.l, ctx, "k", 2)
	defer rel2()

	start := time.Now()
	sctx, rel, err := f.l.TryAcquire(ctx, "k", 2)
	if !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire on a full key: err = %v; want ErrFull", err)
	}
	if sctx != nil || rel != nil {
		t.Errorf("TryAcquire on a full key returned a context or a release; want nil, nil")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("TryAcquire on a full key took %v; want one round trip", d)
	}
	if n := inUse(t, f.l, "k"); n != 2 {
		t.Errorf("InUse = %d after a refused TryAcquire; want 2", n)
	}
}

func TestReleaseFreesTheSlot(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	if n := inUse(t, f.l, "k"); n != 1 {
		t.Fatalf("InUse = %d while held; want 1", n)
	}
	rel()
	if n := inUse(t, f.l, "k"); n != 0 {
		t.Fatalf("InUse = %d when release has returned; want 0", n)
	}
	_, rel = mustTry(t, f.l, ctx, "k", 1)
	rel()
	_ = context.Background()
}
