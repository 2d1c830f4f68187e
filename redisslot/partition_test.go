package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The partition tests cut one Limiter off from Redis with a proxy that
// holds every byte both ways, while another goes on. The Lease is long
// enough that its margin (150ms) covers the lateness of a timer on a
// loaded machine running the race detector on one CPU.
const (
	partLease = 3 * time.Second
	partLimit = 4
	partCut   = 3 * partLease
)

// repeat runs f as subtests, once, or as many times as the environment
// variable REDISSLOT_REPS says (for runs that look for rare failures).
func repeat(t *testing.T, f func(t *testing.T)) {
	n := 1
	if s := os.Getenv("REDISSLOT_REPS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("REDISSLOT_REPS=%q; want a positive count", s)
		}
	}
	for i := range n {
		t.Run(strconv.Itoa(i), f)
	}
}

// cutOffClient returns a client of srv through a new proxy, set up as the
// package documentation advises for request paths (1s timeouts, one
// retry), and the proxy.
func cutOffClient(t *testing.T, srv *redistest.Server) (*redis.Client, *redistest.Proxy) {
	t.Helper()
	p := redistest.NewProxy(t, srv.Addr)
	opts := srv.Options()
	opts.Addr = p.Addr
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = time.Second, time.Second, time.Second
	opts.MaxRetries = 1
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c, p
}

// A busy Limiter cut off from Redis (its slots held, a free pending,
// acquires failing on the way) ends every slot of its key before another
// Limiter, which goes on using Redis, is admitted to any of them: at each
// admission of the other, none of the cut-off holders is live. The slots
// end by the lease clock alone, since every call of the cut-off Limiter
// blocks until its timeout.
func TestPartitionedLimiterEndsItsSlotsBeforeAnotherTakesThem(t *testing.T) {
	t.Parallel() // it mostly waits out its cut: it runs beside other such tests
	repeat(t, partitionOnce)
}

func partitionOnce(t *testing.T) {
	srv := redistest.Start(t)
	client, proxy := cutOffClient(t, srv)
	aErrs := &errLog{}
	a := redisslot.New(client, redisslot.Options{Prefix: testPrefix(t), Lease: partLease, OnError: aErrs.add})
	t.Cleanup(func() { _ = a.Close() })
	b := newFixture(t, srv, redisslot.Options{Prefix: testPrefix(t), Lease: partLease})
	ctx, bctx := ctxWithTimeout(t), ctxWithTimeout(t) // the two instances share no context

	var held []context.Context // a's slots of "k"
	for range partLimit {
		sctx, rel := mustTry(t, a, ctx, "k", partLimit)
		defer rel()
		held = append(held, sctx)
	}
	_, relOther := mustTry(t, a, ctx, "other", 2)
	_, relOther2 := mustTry(t, a, ctx, "other", 2)
	defer relOther2()

	proxy.Freeze()
	cut := time.Now()
	relOther() // its free waits behind the cut
	if _, _, err := a.TryAcquire(ctx, "third", 1); err == nil {
		t.Fatal("TryAcquire of the cut-off Limiter got a slot")
	}

	// The other Limiter polls, as callers of TryAcquire under load do, so
	// that it is admitted as soon as Redis ends a lease.
	admitted := make(chan time.Time, partLimit)
	var mu sync.Mutex
	var overlaps []string
	for i := range partLimit {
		go func() {
			rel, now := pollUntilAdmitted(bctx, b.l, "k", partLimit)
			if rel == nil {
				admitted <- now
				return
			}
			defer rel()
			for j, sctx := range held {
				if sctx.Err() == nil {
					mu.Lock()
					overlaps = append(overlaps, fmt.Sprintf("poller %d admitted %v into the cut while slot %d of the cut-off Limiter was live", i, now.Sub(cut), j))
					mu.Unlock()
				}
			}
			admitted <- now
			<-bctx.Done()
		}()
	}
	first := awaitAdmissions(t, admitted, cut)
	mu.Lock()
	for _, o := range overlaps {
		t.Error(o)
	}
	mu.Unlock()
	for j, sctx := range held {
		if got := context.Cause(sctx); !errors.Is(got, redisslot.ErrLeaseLost) {
			t.Errorf("slot %d of the cut-off Limiter: cause %v; want ErrLeaseLost", j, got)
		}
	}
	t.Logf("the other Limiter's first admission came %v into the cut (Lease %v, life %v)", first.Sub(cut), partLease, redisslot.Life(a))
	time.Sleep(time.Until(cut.Add(partCut))) // the cut's length, not a wait for a condition
	proxy.Thaw()
	eventually(t, "the cut-off Limiter's frees confirmed after the thaw", func() bool { return a.Stats().PendingFrees == 0 })
	eventually(t, "InUse is the other Limiter's holders", func() bool { return inUse(t, b.l, "k") == partLimit })
	if n := inUse(t, b.l, "other"); n != 0 {
		t.Errorf("InUse of the cut-off Limiter's other key = %d; want 0: one slot freed behind the cut, one lost", n)
	}
}

// pollUntilAdmitted calls TryAcquire every millisecond until it gets a slot
// or ctx ends, and returns the slot's release (nil if none) and when the
// call that got it returned.
func pollUntilAdmitted(ctx context.Context, l *redisslot.Limiter, key string, limit int) (func(), time.Time) {
	for {
		_, rel, err := l.TryAcquire(ctx, key, limit)
		now := time.Now()
		if err == nil {
			return rel, now
		}
		select {
		case <-ctx.Done():
			return nil, now
		case <-time.After(time.Millisecond):
		}
	}
}

// awaitAdmissions waits for partLimit admissions, and returns the first.
func awaitAdmissions(t *testing.T, admitted <-chan time.Time, cut time.Time) time.Time {
	t.Helper()
	var first time.Time
	guard := time.After(waitAfter(partLease)) // the cut-off slots end within a Lease
	for i := range partLimit {
		select {
		case at := <-admitted:
			if first.IsZero() || at.Before(first) {
				first = at
			}
		case <-guard:
			t.Fatalf("%d of %d waiters admitted %v into the cut; want all, once the cut-off slots end", i, partLimit, time.Since(cut))
		}
	}
	return first
}
