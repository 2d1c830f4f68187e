package redisslot_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The caps on what one script call carries: an acquire carries at most
// MaxCarried pending frees for good, and a free call and an entry renewal
// call name at most BatchSize members. Each test makes more than a cap's
// worth wait, and reads what the calls named.

// freeCount is the number of members a free call names: its ARGV after
// the tombstone life and the two counts.
func freeCount(cmd redis.Cmder) int { return len(cmd.Args()) - scriptArg - 3 }

// An acquire with 100 frees of its key pending carries MaxCarried of them.
func TestAcquireCarriesAtMostMaxCarriedFrees(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	// Once the canary's first confirmation is looked into, no round runs
	// before Lease/3: that look, while an acquire below was on its way,
	// would have it ask a round, which would send the frees again.
	warmUp(t, f.l)
	var failing atomic.Bool
	failing.Store(true)
	var failed atomic.Int64 // frees named by the failed calls
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if failing.Load() {
			for _, c := range cmds {
				failed.Add(int64(freeCount(c)))
			}
			return failWith(cmds, errors.New("test: free failed"))
		}
		return next()
	}})
	var carried atomic.Int64
	f.client.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		n, _ := cmds[0].Args()[scriptArg+6].(int)
		carried.Store(int64(n))
		return next()
	}})
	ctx := ctxWithTimeout(t)
	const pending = 100
	var rels []func()
	for range pending {
		_, rel := mustTry(t, f.l, ctx, "k", pending+1)
		rels = append(rels, rel)
	}
	for _, rel := range rels {
		rel()
	}
	// Once each free has been sent, and failed, once, and none is in flight,
	// no send takes any before the next round: a send kicked by a release
	// takes only frees never sent.
	eventually(t, "every free sent once, failed, and pending again", func() bool {
		return failed.Load() == pending && f.l.Stats().PendingFrees == pending && redisslot.FreesInFlight(f.l) == 0
	})
	_, rel := mustTry(t, f.l, ctx, "k", pending+1)
	defer rel()
	if n := carried.Load(); n != redisslot.MaxCarried {
		t.Errorf("an acquire with %d frees of its key pending carried %d; want MaxCarried, %d", pending, n, redisslot.MaxCarried)
	}
	failing.Store(false)
}

// A round with more frees of one key than BatchSize sends them in calls of
// at most BatchSize, and sends them all.
func TestFreeCallsNameAtMostBatchSizeMembers(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	// Past the round the canary's first confirmation asks, which holding
	// more than 64 slots makes a round of renewals carrying the frees behind
	// them, past the hook.
	warmUp(t, f.l)
	var hold atomic.Bool
	hold.Store(true)
	var mu sync.Mutex
	var sizes []int
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if hold.Load() {
			return failWith(cmds, errors.New("test: free failed"))
		}
		mu.Lock()
		for _, c := range cmds {
			sizes = append(sizes, freeCount(c))
		}
		mu.Unlock()
		return next()
	}})
	ctx := ctxWithTimeout(t)
	const n = 2*redisslot.BatchSize + 100
	var rels []func()
	for range n {
		_, rel := mustTry(t, f.l, ctx, "k", n)
		rels = append(rels, rel)
	}
	for _, rel := range rels {
		rel()
	}
	eventually(t, "every free pending and none in flight", func() bool {
		return f.l.Stats().PendingFrees == n && redisslot.FreesInFlight(f.l) == 0
	})
	hold.Store(false)
	redisslot.RenewNow(f.l)
	if got := f.l.Stats().PendingFrees; got != 0 {
		t.Errorf("%d frees pending after a round sent them all; want 0", got)
	}
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, s := range sizes {
		if s > redisslot.BatchSize {
			t.Errorf("a free call named %d members; want at most BatchSize, %d", s, redisslot.BatchSize)
		}
		total += s
	}
	if total != n {
		t.Errorf("free calls named %d members in all (calls of %v); want %d", total, sizes, n)
	}
}

// A round of entry renewals with more waiters of one key here than
// BatchSize renews them in calls of at most BatchSize. Only a round that
// names every waiter counts: one sent while they were still joining would
// prove nothing.
func TestEntryRenewalCallsNameAtMostBatchSizeWaiters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts more than BatchSize waiters")
	}
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	const waiters = redisslot.BatchSize + 20
	var mu sync.Mutex
	most := 0 // the most waiters a call named, in a round that named them all
	f.client.AddHook(scriptHook{hash: redisslot.RenewWaitersHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		round, total := 0, 0
		for _, c := range cmds {
			n := len(c.Args()) - scriptArg - 1 // ARGV after the entry TTL
			round, total = max(round, n), total+n
		}
		if total == waiters {
			mu.Lock()
			most = max(most, round)
			mu.Unlock()
		}
		return next()
	}})
	ctx, cancel := context.WithCancel(ctxWithTimeout(t))
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	out := make(chan outcome, waiters)
	for i := range waiters {
		go func() {
			_, rel, err := f.l.Acquire(ctx, "k", 1)
			out <- outcome{who: i, rel: rel, err: err}
		}()
	}
	eventually(t, "every waiter waits", func() bool { return redisslot.Waiters(f.l, "k") == waiters })
	eventually(t, "an entry renewal round of them all", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return most > 0
	})
	cancel()
	for range waiters {
		nextOutcome(t, out)
	}
	if most > redisslot.BatchSize {
		t.Errorf("an entry renewal call named %d waiters; want at most BatchSize, %d", most, redisslot.BatchSize)
	}
}
