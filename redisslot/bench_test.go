package redisslot_test

// Benchmarks of redisslot against the designs it replaces, written out in
// this file and run in the same process, on the same redis-server, with
// the same go-redis client settings:
//
//   - handwritten: the slot store gateways write by hand today. An acquire
//     script on the client's clock (drop expired, count, add, PEXPIRE), a
//     second call that refreshes an index of active keys, a ZREM to release
//     and the index refreshed again: four round trips for an acquire and a
//     release. It waits by polling.
//   - heartbeat: the same store with a lease renewed by a goroutine per held
//     slot, one command per slot per renewal period.
//   - poll: waiting by trying again every 100 ms.
//
// Round trips are counted on the client with a go-redis hook
// (redistest.Counter), after the scripts are loaded, so that neither
// NOSCRIPT fallbacks nor the commands a script runs inside Redis count.
//
// Run them with
//
//	cd redisslot
//	go test -run '^$' -bench 'AcquireRelease|HotKey' -count 1
//	go test -run '^$' -bench HeldSlots -benchtime 3x -count 1
//	go test -run '^$' -bench Handoff -benchtime 200x -count 1

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// handwritten is the hand-written slot store the benchmarks compare with.
type handwritten struct {
	c      *redis.Client
	prefix string
	ttl    time.Duration
}

// handAcquire drops expired members, counts, and adds one, scoring it by
// the client's clock. KEYS[1]: the slot set. ARGV: now in ms, limit,
// expiry in ms, member, TTL of the set in ms.
var handAcquire = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
	return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// noopScript does nothing: the cost of a script call itself.
var noopScript = redis.NewScript(`return 1`)

func newMember() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tryAcquire takes a slot of key, or reports false when it is full: the
// acquire script, then the refresh of the index of active keys.
func (h *handwritten) tryAcquire(ctx context.Context, key string, limit int) (string, bool, error) {
	now := time.Now().UnixMilli()
	member := newMember()
	n, err := handAcquire.Run(ctx, h.c, []string{h.prefix + key}, now, limit, now+h.ttl.Milliseconds(), member, h.ttl.Milliseconds()).Int()
	if err != nil || n == 0 {
		return "", false, err
	}
	err = h.c.ZAdd(ctx, h.prefix+"active", redis.Z{Score: float64(now), Member: key}).Err()
	return member, true, err
}

// release frees the slot with ZREM, then refreshes the index.
func (h *handwritten) release(ctx context.Context, key, member string) error {
	if err := h.c.ZRem(ctx, h.prefix+key, member).Err(); err != nil {
		return err
	}
	return h.c.ZAdd(ctx, h.prefix+"active", redis.Z{Score: float64(time.Now().UnixMilli()), Member: key}).Err()
}

// acquire waits for a slot by polling, backing off from 100 ms to 2 s.
func (h *handwritten) acquire(ctx context.Context, key string, limit int) (string, error) {
	backoff := 100 * time.Millisecond
	for {
		member, ok, err := h.tryAcquire(ctx, key, limit)
		if err != nil || ok {
			return member, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// heartbeat renews one slot's lease every period until ctx is done: the
// goroutine per held slot of the heartbeat design.
func (h *handwritten) heartbeat(ctx context.Context, key, member string, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			exp := time.Now().Add(h.ttl).UnixMilli()
			_ = h.c.ZAddXX(ctx, h.prefix+key, redis.Z{Score: float64(exp), Member: member}).Err()
		}
	}
}

// benchClient returns a client of srv that counts what it sends.
func benchClient(b *testing.B, srv *redistest.Server) (*redis.Client, *redistest.Counter) {
	c := srv.Client(b)
	n := &redistest.Counter{}
	c.AddHook(n)
	return c, n
}

// quantile returns the q-quantile of samples, sorting them.
func quantile(samples []time.Duration, q float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	slices.Sort(samples)
	return samples[min(len(samples)-1, int(q*float64(len(samples))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// reportLatency reports the median and p99 of samples, in µs.
func reportLatency(b *testing.B, samples []time.Duration) {
	b.ReportMetric(us(quantile(samples, 0.5)), "p50-µs")
	b.ReportMetric(us(quantile(samples, 0.99)), "p99-µs")
}

// An op is one acquire and release of a free slot by one design.
type op func(ctx context.Context) error

func redisslotOp(l *redisslot.Limiter, key string) op {
	return func(ctx context.Context) error {
		_, rel, err := l.TryAcquire(ctx, key, 8)
		if err != nil {
			return err
		}
		rel()
		return nil
	}
}

func handwrittenOp(h *handwritten, key string) op {
	return func(ctx context.Context) error {
		member, ok, err := h.tryAcquire(ctx, key, 8)
		if err != nil {
			return err
		}
		if !ok {
			return redisslot.ErrFull
		}
		return h.release(ctx, key, member)
	}
}

// acquireReleaseSetup returns both designs' ops on srv, scripts loaded, and
// their counters.
func acquireReleaseSetup(b *testing.B, srv *redistest.Server) (mine, theirs op, cm, ct *redistest.Counter) {
	prefix := testPrefix(b)
	c1, cm := benchClient(b, srv)
	l := redisslot.New(c1, redisslot.Options{Prefix: prefix, Lease: time.Minute})
	b.Cleanup(func() { _ = l.Close() })
	c2, ct := benchClient(b, srv)
	h := &handwritten{c: c2, prefix: prefix + "hand:", ttl: time.Minute}
	mine, theirs = redisslotOp(l, "k"), handwrittenOp(h, "k")
	ctx := context.Background()
	for range 10 { // load the scripts, open the connections
		if err := mine(ctx); err != nil {
			b.Fatal(err)
		}
		if err := theirs(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cm.Reset()
	ct.Reset()
	return mine, theirs, cm, ct
}

// BenchmarkAcquireRelease takes and frees a free slot, one caller at a
// time: redisslot's TryAcquire and release against the hand-written
// design. The interleaved run alternates the two, so that both see the
// same load on the machine, and reports redisslot's time as a fraction of
// the hand-written design's.
func BenchmarkAcquireRelease(b *testing.B) {
	srv := redistest.Shared(b)
	ctx := context.Background()
	for _, design := range []string{"redisslot", "handwritten"} {
		b.Run("design="+design, func(b *testing.B) {
			mine, theirs, cm, ct := acquireReleaseSetup(b, srv)
			run, count := mine, cm
			if design == "handwritten" {
				run, count = theirs, ct
			}
			var samples []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if err := run(ctx); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(start))
			}
			b.ReportMetric(float64(count.RoundTrips())/float64(b.N), "round-trips/op")
			b.ReportMetric(float64(count.Commands())/float64(b.N), "commands/op")
			reportLatency(b, samples)
		})
	}
	// The floor under the time ratio: two calls of a script that does
	// nothing against four ZADDs, interleaved the same way. Script calls
	// cost more than plain commands even when they do nothing.
	b.Run("floor", func(b *testing.B) {
		c, _ := benchClient(b, srv)
		key := testPrefix(b) + "k"
		two := func(ctx context.Context) error {
			for range 2 {
				if err := noopScript.Run(ctx, c, []string{key}).Err(); err != nil {
					return err
				}
			}
			return nil
		}
		four := func(ctx context.Context) error {
			for range 4 {
				if err := c.ZAdd(ctx, key, redis.Z{Score: 1, Member: "m"}).Err(); err != nil {
					return err
				}
			}
			return nil
		}
		if err := two(ctx); err != nil {
			b.Fatal(err)
		}
		var s2, s4 time.Duration
		var t2, t4 []time.Duration
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			first, second := two, four
			if i%2 == 1 {
				first, second = four, two
			}
			t0 := time.Now()
			if err := first(ctx); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := second(ctx); err != nil {
				b.Fatal(err)
			}
			d1, d2 := t1.Sub(t0), time.Since(t1)
			if i%2 == 1 {
				d1, d2 = d2, d1
			}
			s2 += d1
			s4 += d2
			t2, t4 = append(t2, d1), append(t4, d2)
			i++
		}
		b.ReportMetric(float64(s2)/float64(s4), "time-ratio")
		b.ReportMetric(float64(quantile(t2, 0.5))/float64(quantile(t4, 0.5)), "p50-ratio")
	})
	b.Run("interleaved", func(b *testing.B) {
		mine, theirs, cm, ct := acquireReleaseSetup(b, srv)
		var tm, tt []time.Duration
		var sm, st time.Duration
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			first, second := mine, theirs
			if i%2 == 1 {
				first, second = theirs, mine
			}
			t0 := time.Now()
			if err := first(ctx); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := second(ctx); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			dm, dt := t1.Sub(t0), t2.Sub(t1)
			if i%2 == 1 {
				dm, dt = dt, dm
			}
			tm, tt = append(tm, dm), append(tt, dt)
			sm += dm
			st += dt
			i++
		}
		b.ReportMetric(float64(cm.RoundTrips())/float64(b.N), "round-trips/op")
		b.ReportMetric(float64(ct.RoundTrips())/float64(b.N), "baseline-round-trips/op")
		b.ReportMetric(float64(sm)/float64(st), "time-ratio")
		pm, pt := quantile(tm, 0.5), quantile(tt, 0.5)
		b.ReportMetric(float64(pm)/float64(pt), "p50-ratio")
		b.ReportMetric(us(pm), "p50-µs")
		b.ReportMetric(us(pt), "baseline-p50-µs")
	})
}

// Held slots: 10,000 on 100 keys.
const (
	heldKeys   = 100
	heldPerKey = 100
	heldLease  = 3 * time.Second
)

// acquireMany runs take for every slot, from a few goroutines at once.
func acquireMany(b *testing.B, take func(key string) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= heldKeys*heldPerKey {
					return
				}
				if err := take(fmt.Sprint("k", i%heldKeys)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// goroutinesRunning counts the goroutines with a function whose name
// contains fn on their stack, leaving out the calling goroutine.
func goroutinesRunning(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i > 0 && strings.Contains(g, fn) {
			count++
		}
	}
	return count
}

// BenchmarkHeldSlots holds 10,000 slots on 100 keys and reports the
// goroutines that holding them costs and the Redis commands sent per
// renewal period (Lease/3): redisslot's one renewer against a heartbeat
// goroutine per slot. One iteration is one renewal period; run with
// -benchtime 3x for 3 periods.
func BenchmarkHeldSlots(b *testing.B) {
	srv := redistest.Shared(b)
	ctx := context.Background()
	period := heldLease / 3

	b.Run("design=redisslot", func(b *testing.B) {
		c, _ := benchClient(b, srv)
		var rounds, renewCmds, renewTrips atomic.Int64
		c.AddHook(scriptHook{hash: redisslot.RenewHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
			renewTrips.Add(1)
			renewCmds.Add(int64(len(cmds)))
			// A round is one pipeline, or one call when one key is held.
			rounds.Add(1)
			return next()
		}})
		var lost atomic.Int64
		l := redisslot.New(c, redisslot.Options{Prefix: testPrefix(b), Lease: heldLease, OnError: func(error) { lost.Add(1) }})
		defer l.Close()
		before := runtime.NumGoroutine()
		mineBefore := goroutinesRunning("ctxguard/release/redisslot.")
		var rels []func()
		var mu sync.Mutex
		acquireMany(b, func(key string) error {
			_, rel, err := l.TryAcquire(ctx, key, heldPerKey)
			mu.Lock()
			rels = append(rels, rel)
			mu.Unlock()
			return err
		})
		goroutines := runtime.NumGoroutine() - before
		mine := goroutinesRunning("ctxguard/release/redisslot.") - mineBefore
		redisslot.RenewNow(l) // loads the renewal script before counting
		b.ReportAllocs()
		var trips, cmds, nrounds int64
		for b.Loop() {
			r0, t0, c0 := rounds.Load(), renewTrips.Load(), renewCmds.Load()
			time.Sleep(period) // the measurement window itself
			nrounds += rounds.Load() - r0
			trips += renewTrips.Load() - t0
			cmds += renewCmds.Load() - c0
		}
		periods := float64(b.N)
		b.ReportMetric(float64(heldKeys*heldPerKey), "slots")
		b.ReportMetric(float64(goroutines), "goroutines")
		b.ReportMetric(float64(mine), "goroutines-in-redisslot")
		b.ReportMetric(float64(cmds)/periods, "commands/period")
		b.ReportMetric(float64(cmds)/float64(nrounds), "commands/round")
		b.ReportMetric(float64(trips)/periods, "round-trips/period")
		b.ReportMetric(float64(nrounds)/periods, "rounds/period")
		b.ReportMetric(float64(lost.Load()), "errors")
		for _, rel := range rels {
			rel()
		}
	})

	b.Run("design=heartbeat", func(b *testing.B) {
		c, count := benchClient(b, srv)
		h := &handwritten{c: c, prefix: testPrefix(b), ttl: heldLease}
		hctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		before := runtime.NumGoroutine()
		acquireMany(b, func(key string) error {
			member, ok, err := h.tryAcquire(ctx, key, heldPerKey)
			if err == nil && !ok {
				err = errors.New("heartbeat design: key full")
			}
			if err != nil {
				return err
			}
			wg.Go(func() { h.heartbeat(hctx, key, member, period) })
			return nil
		})
		goroutines := runtime.NumGoroutine() - before
		beats := goroutinesRunning("(*handwritten).heartbeat")
		b.ReportAllocs()
		var cmds, trips int64
		for b.Loop() {
			c0, t0 := count.ByName("zadd"), count.RoundTrips()
			time.Sleep(period)
			cmds += count.ByName("zadd") - c0
			trips += count.RoundTrips() - t0
		}
		stop()
		wg.Wait()
		periods := float64(b.N)
		b.ReportMetric(float64(heldKeys*heldPerKey), "slots")
		b.ReportMetric(float64(goroutines), "goroutines")
		b.ReportMetric(float64(beats), "goroutines-heartbeating")
		b.ReportMetric(float64(cmds)/periods, "commands/period")
		b.ReportMetric(float64(trips)/periods, "round-trips/period")
	})
}

// BenchmarkHandoff measures, per iteration, the time from a release on one
// Limiter to the return of an Acquire waiting for that slot on another:
// redisslot's wake-up against polling every 100 ms. The release comes at a
// random moment up to 100 ms after the waiter settles, the same for both,
// so that the poller is caught at every phase of its period. Each
// iteration uses a key of its own. Run with -benchtime 200x or more for a
// p99.
func BenchmarkHandoff(b *testing.B) {
	srv := redistest.Shared(b)
	for _, design := range []string{"redisslot", "poll-100ms"} {
		b.Run("design="+design, func(b *testing.B) {
			prefix := testPrefix(b)
			ch, _ := benchClient(b, srv)
			cw, _ := benchClient(b, srv)
			var tries atomic.Int64 // acquire calls of the waiter, answered
			cw.AddHook(scriptHook{hash: redisslot.AcquireHash, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
				err := next()
				tries.Add(1)
				return err
			}})
			holder := redisslot.New(ch, redisslot.Options{Prefix: prefix, Lease: time.Minute})
			defer holder.Close()
			waiter := redisslot.New(cw, redisslot.Options{Prefix: prefix, Lease: time.Minute})
			defer waiter.Close()
			ctx := context.Background()
			wait := func(ctx context.Context, key string) (func(), error) {
				if design == "redisslot" {
					_, rel, err := waiter.Acquire(ctx, key, 1)
					return rel, err
				}
				for {
					_, rel, err := waiter.TryAcquire(ctx, key, 1)
					if !errors.Is(err, redisslot.ErrFull) {
						return rel, err
					}
					t := time.NewTimer(100 * time.Millisecond)
					select {
					case <-ctx.Done():
						t.Stop()
						return nil, ctx.Err()
					case <-t.C:
					}
				}
			}
			// Tries a waiter makes before it waits: one, and for redisslot
			// one more once subscribed to the new key's wake-ups.
			settled := int64(1)
			if design == "redisslot" {
				settled = 2
			}
			// Load the scripts.
			_, rel, err := waiter.TryAcquire(ctx, "warm", 1)
			if err != nil {
				b.Fatal(err)
			}
			rel()

			var samples []time.Duration
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				key := fmt.Sprint("k", i)
				i++
				_, rel, err := holder.TryAcquire(ctx, key, 1)
				if err != nil {
					b.Fatal(err)
				}
				t0 := tries.Load()
				type got struct {
					at  time.Time
					rel func()
					err error
				}
				done := make(chan got, 1)
				wctx, cancel := context.WithTimeout(ctx, waitAtOnce)
				go func() {
					rel, err := wait(wctx, key)
					done <- got{time.Now(), rel, err}
				}()
				for deadline := time.Now().Add(waitAtOnce); tries.Load() < t0+settled; {
					if time.Now().After(deadline) {
						b.Fatalf("the waiter made %d tries in %v; want %d", tries.Load()-t0, waitAtOnce, settled)
					}
					time.Sleep(50 * time.Microsecond)
				}
				time.Sleep(time.Duration(rand.N(100_000)) * time.Microsecond) // the phase
				released := time.Now()
				rel()
				g := <-done
				cancel()
				if g.err != nil {
					b.Fatal(g.err)
				}
				samples = append(samples, g.at.Sub(released))
				g.rel()
			}
			b.ReportMetric(ms(quantile(samples, 0.5)), "p50-ms")
			b.ReportMetric(ms(quantile(samples, 0.99)), "p99-ms")
			b.ReportMetric(ms(samples[len(samples)-1]), "max-ms")
			b.ReportMetric(float64(len(samples)), "samples")
		})
	}
}

// BenchmarkHotKey runs acquire and release on one key with limit 8 from
// two instances (two Limiters, or two hand-written stores, each on its own
// client) with 16 callers each, and reports the acquires per second.
func BenchmarkHotKey(b *testing.B) {
	srv := redistest.Shared(b)
	const (
		limit     = 8
		instances = 2
		callers   = 16 // per instance
	)
	for _, design := range []string{"redisslot", "handwritten-poll"} {
		b.Run("design="+design, func(b *testing.B) {
			prefix := testPrefix(b)
			var counts []*redistest.Counter
			var ops []func(ctx context.Context) error
			for range instances {
				c, n := benchClient(b, srv)
				counts = append(counts, n)
				if design == "redisslot" {
					l := redisslot.New(c, redisslot.Options{Prefix: prefix, Lease: time.Minute})
					b.Cleanup(func() { _ = l.Close() })
					ops = append(ops, func(ctx context.Context) error {
						_, rel, err := l.Acquire(ctx, "hot", limit)
						if err == nil {
							rel()
						}
						return err
					})
				} else {
					h := &handwritten{c: c, prefix: prefix, ttl: time.Minute}
					ops = append(ops, func(ctx context.Context) error {
						member, err := h.acquire(ctx, "hot", limit)
						if err == nil {
							err = h.release(ctx, "hot", member)
						}
						return err
					})
				}
			}
			ctx := context.Background()
			for _, o := range ops { // load the scripts
				if err := o(ctx); err != nil {
					b.Fatal(err)
				}
			}
			var trips int64
			for _, n := range counts {
				n.Reset()
			}
			b.ReportAllocs()
			b.ResetTimer()
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			errs := make(chan error, instances*callers)
			for i := range instances * callers {
				o := ops[i%instances]
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						if err := o(ctx); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			for _, n := range counts {
				trips += n.RoundTrips()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acquires/s")
			b.ReportMetric(float64(trips)/float64(b.N), "round-trips/op")
		})
	}
}
