package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Promise 4: the release runs once, however many goroutines call it.
func TestReleaseFreesOnceWhenCalledFromManyGoroutines(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var frees atomic.Int32
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		frees.Add(1)
		return next()
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel()
		}()
	}
	waitAll(t, &wg, waitAtOnce, "release called from 20 goroutines did not return")
	// Redis may run the free before the Limiter reads its reply: wait for
	// the Limiter to have seen it confirmed, or Close would send it again.
	eventually(t, "the free is confirmed", func() bool {
		return inUse(t, f.l, "k") == 0 && f.l.Stats().PendingFrees == 0
	})
	if err := f.l.Close(); err != nil { // nothing left to send: a second free would show
		t.Fatalf("Close: %v", err)
	}
	if n := frees.Load(); n != 1 {
		t.Errorf("20 concurrent releases sent %d frees; want 1", n)
	}
}

// Promise 4: the free is sent in the background, not cancelled by the
// caller's ctx, and bounded by ReleaseTimeout (and by Lease/3).
func TestFreeIsNotCancelledByTheCallersCtxAndIsBounded(t *testing.T) {
	srv := redistest.Shared(t)
	const releaseTimeout = 3 * time.Second
	f := newFixture(t, srv, redisslot.Options{Lease: longLease, ReleaseTimeout: releaseTimeout})
	type seen struct {
		err      error
		deadline time.Duration
		ok       bool
	}
	got := make(chan seen, 1)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		dl, ok := ctx.Deadline()
		select {
		case got <- seen{ctx.Err(), time.Until(dl), ok}:
		default:
		}
		return next()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	_, rel := mustTry(t, f.l, ctx, "k", 1)
	defer rel()
	cancel() // the hang-up frees the slot
	s := recv(t, got, waitAtOnce, "the hang-up sent no free")
	if s.err != nil {
		t.Errorf("free's ctx is done (%v) although only the caller's ctx was cancelled", s.err)
	}
	if !s.ok || s.deadline > releaseTimeout || s.deadline <= 0 {
		t.Errorf("free's ctx deadline in %v (set %v); want within ReleaseTimeout %v", s.deadline, s.ok, releaseTimeout)
	}
	eventually(t, "the slot is freed", func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 4: a free sent at once is bounded by Lease/3 when that is less
// than ReleaseTimeout, so that it never holds up the next renewal round.
func TestFreeIsBoundedByAThirdOfTheLease(t *testing.T) {
	srv := redistest.Shared(t)
	const lease = 3 * time.Second
	f := newFixture(t, srv, redisslot.Options{Lease: lease, ReleaseTimeout: 2 * lease})
	deadlines := make(chan time.Duration, 1)
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if dl, ok := ctx.Deadline(); ok {
			sendOrDrop(deadlines, time.Until(dl))
		}
		return next()
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	rel()
	if d := recv(t, deadlines, waitAtOnce, "the release sent no free with a deadline"); d > lease/3 || d <= 0 {
		t.Errorf("free's ctx deadline in %v; want within Lease/3 = %v, below ReleaseTimeout %v", d, lease/3, 2*lease)
	}
	eventually(t, "the slot is freed", func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 4: a release does not wait for its free: it returns while the
// free is held up on its way to Redis, and the free arrives later.
func TestReleaseReturnsWithoutWaitingForTheFree(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	entered, unblocked := make(chan struct{}), make(chan struct{})
	unblock := sync.OnceFunc(func() { close(unblocked) })
	t.Cleanup(unblock) // before the fixture's Close, even when the test fails
	var once sync.Once
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		once.Do(func() {
			close(entered)
			<-unblocked
		})
		return next()
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	finished := make(chan struct{})
	go func() {
		rel()
		close(finished)
	}()
	recv(t, finished, waitAtOnce, "release did not return while its free was held up")
	recv(t, entered, waitAtOnce, "the free was never sent") // it is on its way, and held up
	unblock()
	eventually(t, "the free arrives", func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 4: a failed free goes to OnError, is retried, and the slot ends
// with its lease if it never gets through.
func TestFailedFreeGoesToOnErrorAndSlotEndsWithItsLease(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	errInjected := errors.New("test: free failed")
	var tries atomic.Int32
	f.client.AddHook(scriptHook{hash: redisslot.ReleaseHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		tries.Add(1)
		return failWith(cmds, errInjected)
	}})
	_, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	rel()
	eventually(t, "OnError hears of the failed free", func() bool { return f.errs.has(errInjected) })
	for _, err := range f.errs.all() {
		if errors.Is(err, errInjected) && !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("OnError got %q; want it to name the key", err)
		}
	}
	eventually(t, "the free is retried", func() bool { return tries.Load() >= 2 })
	eventuallyWithin(t, waitAfter(testLease), "the slot ends with its lease", func() bool { return inUse(t, f.l, "k") == 0 })
}

// Promise 5: renewal keeps a slot alive for 5 leases.
func TestRenewalKeepsSlotAliveForFiveLeases(t *testing.T) {
	t.Parallel() // it mostly waits: it runs beside other such tests
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	raw := srv.Client(t)
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	end := time.Now().Add(5 * testLease)
	for time.Now().Before(end) {
		if err := context.Cause(sctx); err != nil {
			t.Fatalf("slot context done while held and renewed: %v", err)
		}
		if n := inUse(t, f.l, "k"); n != 1 {
			t.Fatalf("InUse = %d while held and renewed; want 1", n)
		}
		time.Sleep(50 * time.Millisecond) // sampling, not waiting for a condition
	}
	zs := members(t, raw, testPrefix(t)+"{k}")
	if now := redisNowMs(t, raw); len(zs) != 1 || zs[0].Score <= now {
		t.Errorf("after 5 leases: members %v at Redis time %.0f; want one live member", zs, now)
	}
	// A round that fails now and then on a loaded machine is within the
	// promise (a lease survives about two missed rounds); say so.
	if errs := f.errs.all(); len(errs) > 0 {
		t.Logf("OnError got %v", errs)
	}
}

// Promise 5: 1,000 held slots on 10 keys cost no goroutine each, and a
// renewal round sends one script call per BatchSize slots, whatever their
// keys, in one round trip.
func TestRenewalOfThousandSlotsOnTenKeysIsOneCallPerBatch(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: 3 * testLease})
	var rounds sync.Mutex
	var perRound []int
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		rounds.Lock()
		perRound = append(perRound, len(cmds))
		rounds.Unlock()
		return next()
	}})
	ctx := ctxWithTimeout(t)
	const keys, slots = 10, 1000
	var rels []func()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range slots / keys {
				_, rel, err := f.l.TryAcquire(ctx, fmt.Sprint("k", k), slots)
				if err != nil {
					t.Errorf("TryAcquire: %v", err)
					return
				}
				mu.Lock()
				rels = append(rels, rel)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if n := limiterGoroutines(); n != 2 {
		t.Errorf("%d goroutines run the Limiter's code with %d slots held; want 2, the renewer and the subscriber (no goroutine per slot)", n, slots)
	}

	f.count.Reset()
	rounds.Lock()
	perRound = nil
	rounds.Unlock()
	// Three natural rounds of the renewer, Lease/3 apart.
	eventuallyWithin(t, waitAfter(3*redisslot.RenewEvery(f.l)), "three renewal rounds", func() bool {
		rounds.Lock()
		defer rounds.Unlock()
		return len(perRound) >= 3
	})
	rounds.Lock()
	got := append([]int(nil), perRound...)
	rounds.Unlock()
	t.Logf("renewal rounds: %v script calls each; client sent %d commands in %d round trips",
		got, f.count.Commands(), f.count.RoundTrips())
	want := (slots + redisslot.BatchSize - 1) / redisslot.BatchSize
	for _, n := range got {
		if n != want {
			t.Errorf("a renewal round sent %d script calls for %d slots on %d keys; want %d", n, slots, keys, want)
		}
	}
	if n := inUse(t, f.l, "k3"); n != slots/keys {
		t.Errorf("InUse(k3) = %d; want %d", n, slots/keys)
	}
	for _, rel := range rels {
		rel()
	}
}

// Promise 5: a key holding more slots than a batch is renewed in chunks of
// BatchSize slots, which may hold slots of other keys.
func TestRenewalChunksAKeyWithManySlots(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	// The canary's first look is past: with more slots held than it looks
	// at, it would run a round beside the one measured.
	warmUp(t, f.l)
	ctx := ctxWithTimeout(t)
	n := 2*redisslot.BatchSize + 1
	for range n {
		_, rel := mustTry(t, f.l, ctx, "big", n)
		defer rel()
	}
	_, rel := mustTry(t, f.l, ctx, "small", 1)
	defer rel()
	f.count.Reset()
	redisslot.RenewNow(f.l)
	if got := f.count.ByName("evalsha"); got != 3 {
		t.Errorf("renewing %d slots of one key and 1 of another sent %d script calls; want 3 (BatchSize %d a call)", n, got, redisslot.BatchSize)
	}
	if got := f.count.RoundTrips(); got != 1 {
		t.Errorf("a renewal round took %d round trips; want 1", got)
	}
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("OnError got %v; want nothing", errs)
	}
}

// Promise 5: a member deleted from outside is a lost lease: the slot's
// context ends with ErrLeaseLost, OnError hears of it, and renewal does not
// put the member back.
func TestMemberDeletedFromOutsideIsALostLease(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	raw := srv.Client(t)
	rkey := testPrefix(t) + "{k}"
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	zs := members(t, raw, rkey)
	if len(zs) != 1 {
		t.Fatalf("%d members; want 1", len(zs))
	}
	if err := raw.ZRem(context.Background(), rkey, zs[0].Member).Err(); err != nil {
		t.Fatal(err)
	}
	recv(t, sctx.Done(), waitAfter(redisslot.RenewEvery(f.l)), "slot context not done after its member was deleted")
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Errorf("slot context cause = %v; want ErrLeaseLost", got)
	}
	eventually(t, "OnError hears of the lost lease", func() bool { return f.errs.has(redisslot.ErrLeaseLost) })
	redisslot.RenewNow(f.l)
	if zs := members(t, raw, rkey); len(zs) != 0 {
		t.Errorf("members %v after renewal; want none (renewal must not re-create)", zs)
	}
	if n := redisslot.Held(f.l); n != 0 {
		t.Errorf("Limiter holds %d slots after the loss; want 0", n)
	}
}

// Promise 5: renewal extends only members whose lease has not ended.
func TestRenewalDoesNotExtendAnEndedLease(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	rkey := testPrefix(t) + "{k}"
	ctx := ctxWithTimeout(t)
	sctx, rel := mustTry(t, f.l, ctx, "k", 2)
	defer rel()
	other, rel2 := mustTry(t, f.l, ctx, "k", 2)
	defer rel2()
	zs := members(t, raw, rkey)
	ended := redisNowMs(t, raw) - 1000
	// End one member's lease in Redis, as if it was never renewed.
	if err := raw.ZAddXX(ctx, rkey, redis.Z{Score: ended, Member: zs[0].Member}).Err(); err != nil {
		t.Fatal(err)
	}
	redisslot.RenewNow(f.l)
	lost, kept := sctx, other
	if context.Cause(other) != nil {
		lost, kept = other, sctx
	}
	if got := context.Cause(lost); got != redisslot.ErrLeaseLost {
		t.Errorf("slot whose lease ended: cause %v; want ErrLeaseLost", got)
	}
	if got := context.Cause(kept); got != nil {
		t.Errorf("slot whose lease runs: cause %v; want none", got)
	}
	score, err := raw.ZScore(ctx, rkey, zs[0].Member.(string)).Result()
	if err == nil && score != ended {
		t.Errorf("ended member's score %.0f after renewal; want it left at %.0f", score, ended)
	}
}

// Promise 5: a slot freed while a renewal round is in flight is not
// reported lost.
func TestRenewalRacingReleaseDoesNotReportALoss(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	entered, proceeding := make(chan struct{}), make(chan struct{})
	proceed := sync.OnceFunc(func() { close(proceeding) })
	t.Cleanup(proceed) // before the fixture's Close, even when the test fails
	var once sync.Once
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		once.Do(func() {
			close(entered)
			<-proceeding
		})
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel1 := mustTry(t, f.l, ctx, "a", 1)
	sctx2, rel2 := mustTry(t, f.l, ctx, "b", 1)
	defer rel2()
	renewed := make(chan struct{})
	go func() {
		redisslot.RenewNow(f.l) // takes its list of slots, then blocks in the hook
		close(renewed)
	}()
	recv(t, entered, waitAtOnce, "the renewal round sent nothing")
	rel1()
	// a's free, on the sender, not the round, lands before the round
	// reaches Redis: the round then finds a's member gone.
	raw := srv.Client(t)
	eventually(t, "a's member is freed in Redis", func() bool {
		n, err := raw.ZCard(ctx, testPrefix(t)+"{a}").Result()
		return err == nil && n == 0 && f.l.Stats().PendingFrees == 0
	})
	proceed()
	recv(t, renewed, waitAtOnce, "the renewal round did not end")
	if f.errs.has(redisslot.ErrLeaseLost) {
		t.Errorf("OnError got %v; want no lost lease for a slot freed during the round", f.errs.all())
	}
	if err := context.Cause(sctx2); err != nil {
		t.Errorf("other slot's context done: %v", err)
	}
}

// Promise 5: a slot that no renewal confirmed within its life, Lease
// minus the margin (Redis unreachable), is lost then, by the local clock:
// not before, and not a Lease later. The bound after it is what a loaded
// machine may add.
func TestSlotUnconfirmedForAWholeLeaseIsLost(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease, ReleaseTimeout: time.Second})
	life := redisslot.Life(f.l)
	beforeAcquire := time.Now()
	sctx, rel := mustTry(t, f.l, ctxWithTimeout(t), "k", 1)
	defer rel()
	acquired := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	recv(t, sctx.Done(), waitAfter(life), fmt.Sprintf("slot context not done after Redis went away, its life being %v", life))
	lost := time.Now()
	if d := lost.Sub(beforeAcquire); d < life {
		t.Errorf("slot lost %v after its acquire was sent; want not before its life %v", d, life)
	}
	// Lost a Lease late, it would be at least life+testLease after: the
	// bound leaves a loaded machine all but a tenth of that.
	if d := lost.Sub(acquired); d > life+testLease*9/10 {
		t.Errorf("slot lost %v after its acquire; want it lost its life %v after, not a Lease later", d, life)
	}
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Errorf("slot context cause = %v; want ErrLeaseLost", got)
	}
	// OnError hears of the loss just after the slot's context ends.
	eventually(t, "OnError hears of the lost lease", func() bool { return f.errs.has(redisslot.ErrLeaseLost) })
	var renewErr bool
	for _, err := range f.errs.all() {
		renewErr = renewErr || strings.Contains(err.Error(), "renew")
	}
	if !renewErr {
		t.Errorf("OnError got %v; want the failed renewals", f.errs.all())
	}
}

// Promise 5: a slot lost by the local clock (no renewal confirmed within
// its life) is freed in Redis too, at once: a renewal that Redis runs late
// cannot extend it then, and its member does not wait for the key's next
// renewal round to go. Another Limiter's slot keeps the key alive.
func TestSlotLostByTheClockIsFreedInRedis(t *testing.T) {
	srv := redistest.Shared(t)
	opts := redisslot.Options{Prefix: testPrefix(t), Lease: testLease}
	f := newFixture(t, srv, opts)
	opts.Lease = longLease
	other := newFixture(t, srv, opts)
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return failWith(cmds, errInjected) // no renewal gets through
	}})
	ctx := ctxWithTimeout(t)
	_, relOther := mustTry(t, other.l, ctx, "k", 2)
	defer relOther()
	raw := srv.Client(t)
	rkey := redisslot.SlotKey(f.l, "k")
	before := members(t, raw, rkey)
	sctx, rel := mustTry(t, f.l, ctx, "k", 2)
	defer rel()
	after := members(t, raw, rkey)
	if len(before) != 1 || len(after) != 2 {
		t.Fatalf("slot set %v, then %v; want one member, then two", before, after)
	}
	member := after[0].Member
	if member == before[0].Member {
		member = after[1].Member
	}
	life := redisslot.Life(f.l)
	recv(t, sctx.Done(), waitAfter(life), fmt.Sprintf("slot context not done though no renewal got through in its life %v", life))
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Fatalf("slot context cause = %v; want ErrLeaseLost", got)
	}
	eventually(t, "the lost slot's member removed from Redis", func() bool {
		return errors.Is(raw.ZScore(ctx, rkey, fmt.Sprint(member)).Err(), redis.Nil)
	})
}

// Promise 5: each slot ends at its own deadline on the one timer, however
// the slots taken after it move that timer: with no renewal confirmed,
// slots taken a gap apart are each lost their life after their own
// acquire, not with a later slot, the middle one too once the first has
// fired the timer.
func TestEachSlotIsLostAtItsOwnDeadline(t *testing.T) {
	srv := redistest.Shared(t)
	const lease, gap = 3 * time.Second, time.Second
	f := newFixture(t, srv, redisslot.Options{Lease: lease})
	f.client.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		return failWith(cmds, errInjected) // no renewal gets through
	}})
	life := redisslot.Life(f.l)
	ctx := ctxWithTimeout(t)
	var slots [3]context.Context
	var taken [3]time.Time
	for i := range slots {
		if i > 0 {
			time.Sleep(gap) // each slot's deadline is gap after the one before
		}
		var rel func()
		taken[i] = time.Now()
		slots[i], rel = mustTry(t, f.l, ctx, "k", len(slots))
		defer rel()
	}
	for i, sctx := range slots {
		recv(t, sctx.Done(), waitAfter(life), fmt.Sprintf("slot %d was not lost", i))
		// Lost with the next slot, it would be at least life+gap after
		// its acquire: the bound leaves a loaded machine all but a tenth.
		if d := time.Since(taken[i]); d > life+gap*9/10 {
			t.Errorf("slot %d was lost %v after its acquire; want its life %v after (+%v slack), not with a slot taken %v later", i, d, life, gap*9/10, gap)
		}
	}
}

// Promise 5: NOSCRIPT is handled on every path, pipelines included.
func TestScriptsAreLoadedAgainAfterScriptFlush(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	flush := func() {
		t.Helper()
		if err := raw.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	sa, rela := mustTry(t, f.l, ctx, "a", 1)
	defer rela()
	sb, relb := mustTry(t, f.l, ctx, "b", 1)
	defer relb()
	flush()
	redisslot.RenewNow(f.l) // a pipeline of two EVALSHA
	if errs := f.errs.all(); len(errs) > 0 {
		t.Fatalf("renewal after SCRIPT FLUSH: OnError got %v", errs)
	}
	if context.Cause(sa) != nil || context.Cause(sb) != nil {
		t.Fatalf("slots lost after SCRIPT FLUSH: %v, %v", context.Cause(sa), context.Cause(sb))
	}
	flush()
	if _, err := f.l.InUse(ctx, "a"); err != nil {
		t.Errorf("InUse after SCRIPT FLUSH: %v", err)
	}
	flush()
	rela()
	if errs := f.errs.all(); len(errs) > 0 {
		t.Errorf("release after SCRIPT FLUSH: OnError got %v", errs)
	}
	flush()
	if err := f.l.Close(); err != nil {
		t.Errorf("Close after SCRIPT FLUSH: %v", err)
	}
	if n := len(members(t, raw, testPrefix(t)+"{b}")); n != 0 {
		t.Errorf("%d members of b after Close; want 0", n)
	}
}

// A round of several calls goes as one pipeline of EVALSHA, which gets no
// EVAL fallback: after SCRIPT FLUSH, the calls answered NOSCRIPT are sent
// again once their scripts are loaded, in the same round, and none fails.
func TestRoundPipelineIsSentAgainAfterScriptFlush(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	var failFrees atomic.Bool
	failed := failFreesWhile(f, &failFrees)
	ctx := ctxWithTimeout(t)
	// No round may come before the one sent below: a round's pipeline
	// would carry the free past the hook. With the scripts loaded, no call
	// finds them gone (and so asks a round, and tells the others), and the
	// warm-up waits for the round of the canary's first confirmation.
	if err := redisslot.LoadScripts(ctx, srv.Client(t)); err != nil {
		t.Fatal(err)
	}
	warmUp(t, f.l)
	held, rel := mustTry(t, f.l, ctx, "a", 1)
	defer rel()
	failFrees.Store(true)
	_, relb := mustTry(t, f.l, ctx, "b", 1)
	relb()
	recv(t, failed, waitAtOnce, "the release sent no free")
	eventually(t, "the failed free waits again, no longer in flight", func() bool {
		return f.l.Stats().PendingFrees == 1 && redisslot.FreesInFlight(f.l) == 0
	})
	failFrees.Store(false)
	if err := srv.Client(t).ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	redisslot.RenewNow(f.l) // a pipeline: the renewal of a, the free of b
	for _, err := range f.errs.all() {
		if !errors.Is(err, errFreeFailed) { // b's report of its failed free
			t.Errorf("round after SCRIPT FLUSH: OnError got %v; want only the free's earlier failure", err)
		}
	}
	if n := f.l.Stats().PendingFrees; n != 0 {
		t.Errorf("%d frees pending after the round; want 0", n)
	}
	if cause := context.Cause(held); cause != nil {
		t.Errorf("slot lost after the round: %v", cause)
	}
}

// Promise 5: after a Redis restart the members are gone; held slots are
// reported lost, and the Limiter works again.
func TestRedisRestartReportsVanishedMembersAsLostLeases(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease})
	ctx := ctxWithTimeout(t)
	sa, rela := mustTry(t, f.l, ctx, "a", 1)
	defer rela()
	sb, relb := mustTry(t, f.l, ctx, "b", 1)
	defer relb()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, sctx := range []context.Context{sa, sb} {
		recv(t, sctx.Done(), waitAfter(redisslot.RenewEvery(f.l)), "slot context not done after a Redis restart")
		if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
			t.Errorf("slot context cause = %v; want ErrLeaseLost", got)
		}
	}
	_, rel, err := f.l.Acquire(ctxWithin(t, waitAtOnce), "a", 1)
	if err != nil {
		t.Fatalf("Acquire after the restart: %v", err)
	}
	rel()
}

// Promise 6: a dead instance's slots come back when their leases end. A
// live holder on the same key keeps the slot set itself alive, so the slots
// must come back member by member, not by the whole set expiring.
func TestCrashedInstanceSlotsComeBackWhenLeasesEnd(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	var dead atomic.Bool
	crashed := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	crashed.client.AddHook(deadHook(&dead))
	other := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: testLease})
	ctx := ctxWithTimeout(t)
	const limit = 4
	_, relLive := mustTry(t, other.l, ctx, "k", limit)
	defer relLive()
	for range limit - 1 {
		holdAbandoned(t, crashed.l, ctx, "k", limit) // the crashed instance never frees its slots
	}
	dead.Store(true) // from now on nothing it sends reaches Redis
	died := time.Now()
	if _, _, err := other.l.TryAcquire(ctx, "k", limit); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("TryAcquire while the dead instance's leases run: %v; want ErrFull", err)
	}
	actx := ctxWithin(t, waitAfter(testLease+redisslot.RetryInterval(other.l)))
	for range limit - 1 {
		_, rel, err := other.l.Acquire(actx, "k", limit)
		if err != nil {
			t.Fatalf("Acquire of the dead instance's slots: %v", err)
		}
		defer rel()
	}
	// Their leases end at most a Lease after the crash, and a waiter tries
	// within a retry interval of that; the second Lease is slack for load.
	if d, most := time.Since(died), 2*testLease+redisslot.RetryInterval(other.l); d > most {
		t.Errorf("other instance got all %d slots %v after the crash; want within %v (Lease %v)", limit-1, d, most, testLease)
	}
}

// Promise 6: nothing a Limiter does deletes another instance's members.
func TestNothingDeletesOtherInstancesMembers(t *testing.T) {
	srv := redistest.Shared(t)
	prefix := testPrefix(t)
	a := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	warmUp(t, a.l) // the round of its canary's first confirmation is past
	raw := srv.Client(t)
	ctx := ctxWithTimeout(t)
	for range 2 {
		_, rel := mustTry(t, a.l, ctx, "k", 5)
		defer rel()
	}
	mine := members(t, raw, prefix+"{k}")
	b := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: longLease})
	for range 3 {
		_, rel := mustTry(t, b.l, ctx, "k", 5)
		redisslot.RenewNow(b.l)
		rel()
	}
	holdAbandoned(t, b.l, ctx, "k", 5) // Close frees the slot
	if err := b.l.Close(); err != nil {
		t.Fatal(err)
	}
	after := members(t, raw, prefix+"{k}")
	if len(after) != len(mine) {
		t.Fatalf("members %v after the other Limiter's work; want %v", after, mine)
	}
	for i := range mine {
		if after[i] != mine[i] {
			t.Errorf("member %v became %v", mine[i], after[i])
		}
	}
}
