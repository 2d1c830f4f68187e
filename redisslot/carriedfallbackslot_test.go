package redisslot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The limit holds against a late copy of a released fallback slot's
// adoption. An adoption writes its member whatever the limit, and only the
// slot's free, with its tombstone, refuses a copy that runs after it; so
// no acquire may take the room of that slot before its free has landed.
//
// Here a fallback slot's first adoption is held up on its connection while
// a second one is confirmed; the slot is released while its free is held
// back (it fails, and is sent again each round, and fails); a TryAcquire of the key
// (limit 1) on the same Limiter follows at once. Then the held adoption
// runs: the key must not count two holders.
func TestReleasedFallbackSlotIsNotTakenBeforeItsFreeLands(t *testing.T) {
	t.Parallel() // it mostly waits on a server of its own: it runs beside other such tests
	srv := redistest.Start(t)
	p := newDelayProxy(t, srv.Addr, 3*time.Second, true, func(b []byte) bool {
		return containsAll(b, redisslot.AdoptHash)
	})
	var freesHeld atomic.Bool
	l, other := ghostSetup(t, srv, p, -1, redisslot.Options{Fallback: func(string, int) int { return 1 }}, heldFrees{&freesHeld})
	ctx := ctxWithTimeout(t)
	rel := fallbackSlotOfAStoppedServer(t, srv, l)
	defer rel()
	eventually(t, "the adoption is sent", p.matched.Load)
	eventually(t, "a second adoption confirmed: the fallback state ended", func() bool {
		st := l.Stats()
		return st.PendingFrees == 0 && !st.Degraded
	})
	if p.answered.Load() {
		t.Fatal("the held adoption ran before the second one; want it held up")
	}

	freesHeld.Store(true)
	rel()
	_, relNext, err := l.TryAcquire(ctx, "k", 1)
	if relNext != nil {
		defer relNext()
	}
	eventually(t, "Redis answers the held adoption", p.answered.Load)
	if n := inUse(t, other.l, "k"); n > 1 {
		t.Errorf("the released fallback slot's held adoption ran after a TryAcquire (%v) took its room: InUse = %d; want at most the limit, 1", err, n)
	}
	freesHeld.Store(false)
	eventually(t, "the free lands", func() bool { return l.Stats().PendingFrees == 0 })
}

// errFreeHeld is the answer heldFrees gives a free it holds back: an
// answer, not Redis out of reach.
var errFreeHeld = errors.New("test: free held back")

// heldFrees, a hook, fails every free script call while held is set,
// without sending it: one sent alone, and one in a pipeline (a renewal
// round carries frees behind its renewals), whose other calls go on.
type heldFrees struct{ held *atomic.Bool }

func (h heldFrees) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h heldFrees) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.held.Load() && scriptOf(cmd) == redisslot.ReleaseHash {
			return failWith([]redis.Cmder{cmd}, errFreeHeld)
		}
		return next(ctx, cmd)
	}
}

func (h heldFrees) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.held.Load() {
			return next(ctx, cmds)
		}
		rest := make([]redis.Cmder, 0, len(cmds))
		for _, c := range cmds {
			if scriptOf(c) == redisslot.ReleaseHash {
				c.SetErr(errFreeHeld)
			} else {
				rest = append(rest, c)
			}
		}
		if len(rest) == 0 {
			return errFreeHeld
		}
		return next(ctx, rest)
	}
}
