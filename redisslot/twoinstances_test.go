package redisslot_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The shared key of the two-instance tests and its limit.
const (
	clusterKey   = "account"
	clusterLimit = 8
	// clusterLease is long enough that a loaded machine never misses a
	// renewal: these tests are about hang-ups, not lease ends.
	clusterLease = 3 * time.Second
)

// loadBound bounds the load of TestTwoInstancesOverHTTPNeverHoldMoreThanTheLimit,
// which takes about 8s beside 8 busy processes on 2 cores under -race.
const loadBound = time.Minute

// liveSlots counts slots held, not handlers running: a slot counts from
// Acquire's return until its context is done. A slot's context is done
// before the call that frees it is sent, so a slot that another holder took
// over no longer counts by the time the new holder is added.
type liveSlots struct {
	mu   sync.Mutex
	live []context.Context
	most int
}

// add counts sctx as held, unless it is already done, and returns how many
// slots are held now. A slot whose context ended between Acquire's return
// and add (its client hung up) may already be free and taken by another
// holder, so it must not count.
func (s *liveSlots) add(sctx context.Context) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := append(s.live, sctx)
	kept := all[:0]
	for _, c := range all {
		if c.Err() == nil {
			kept = append(kept, c)
		}
	}
	clear(all[len(kept):])
	s.live = kept
	s.most = max(s.most, len(s.live))
	return len(s.live)
}

func (s *liveSlots) max() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most
}

// ledger follows every member through the acquire and free scripts a
// client sends: which members Redis admitted, and how many calls that
// succeeded freed each.
type ledger struct {
	mu       sync.Mutex
	admitted map[string]bool
	removed  map[string]int // free calls that succeeded naming the member
	carried  map[string]int // acquire calls that succeeded carrying it as a pending free
}

func newLedger() *ledger {
	return &ledger{admitted: map[string]bool{}, removed: map[string]int{}, carried: map[string]int{}}
}

// hook returns the hook that shows g every command a client sends, with
// its outcome.
func (g *ledger) hook() scriptHook {
	return scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		err := next()
		for _, cmd := range cmds {
			e := cmd.Err()
			if e == nil {
				e = err // go-redis sets a command's error after the hooks return
			}
			g.note(cmd, e)
		}
		return err
	}}
}

// note records the outcome of one script call, which ended with err.
func (g *ledger) note(cmd redis.Cmder, err error) {
	if redis.HasErrorPrefix(err, "NOSCRIPT") || redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		return // not run; sent again
	}
	args := cmd.Args()
	switch scriptOf(cmd) {
	case redisslot.AcquireHash:
		g.mu.Lock()
		if admittedBy(cmd) {
			g.admitted[fmt.Sprint(args[scriptArg])] = true
		}
		if n, _ := args[scriptArg+6].(int); err == nil {
			for _, m := range args[scriptArg+8 : scriptArg+8+n] { // the slots it carried for good
				g.carried[fmt.Sprint(m)]++
			}
		}
		g.mu.Unlock()
	case redisslot.ReleaseHash:
		if err != nil {
			return
		}
		g.mu.Lock()
		for _, m := range args[scriptArg+3:] { // slots, places in line, unsure members
			g.removed[fmt.Sprint(m)]++
		}
		g.mu.Unlock()
	}
}

// check reports members admitted and not freed by exactly one call that
// succeeded: a free call, or an acquire that carried it. A free goes once:
// none is sent again once a call that carried it succeeded.
func (g *ledger) check(t *testing.T) (admitted int) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	for m := range g.admitted {
		if n := g.removed[m] + g.carried[m]; n != 1 {
			t.Errorf("member %s admitted and freed by %d free calls and %d acquires that succeeded; want 1 in all", m, g.removed[m], g.carried[m])
		}
	}
	return len(g.admitted)
}

// instance is one gateway instance: an HTTP server whose handler takes a
// slot of clusterKey from its own Limiter, on its own Redis client.
type instance struct {
	f      *fixture
	srv    *httptest.Server
	slots  *liveSlots
	unstop chan struct{} // closed to let "stuck" handlers return
	letGo  func()        // closes unstop, once

	acquired   atomic.Int64 // Acquire returned a slot
	refused    atomic.Int64 // Acquire returned ctx's error (a hang-up)
	running    atomic.Int64 // handlers running that acquired a slot
	mostRun    atomic.Int64
	stuck      atomic.Int64 // "stuck" handlers still running
	unexpected chan error
}

// ServeHTTP takes a slot and then works, in the way ?mode= says:
//
//	watch: for ?ms= milliseconds, or until the slot's context is done;
//	ignore: for ?ms= milliseconds, ignoring its context;
//	stuck: until the test lets it go, ignoring its context.
func (in *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sctx, rel, err := in.f.l.Acquire(r.Context(), clusterKey, clusterLimit)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			in.refused.Add(1)
		} else {
			sendOrDrop(in.unexpected, err)
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer rel()
	in.acquired.Add(1)
	in.slots.add(sctx)
	n := in.running.Add(1)
	defer in.running.Add(-1)
	for {
		m := in.mostRun.Load()
		if n <= m || in.mostRun.CompareAndSwap(m, n) {
			break
		}
	}
	var ms int
	_, _ = fmt.Sscan(r.URL.Query().Get("ms"), &ms)
	work := time.Duration(ms) * time.Millisecond
	switch r.URL.Query().Get("mode") {
	case "ignore":
		time.Sleep(work)
	case "stuck":
		in.stuck.Add(1)
		<-in.unstop
		in.stuck.Add(-1)
	default:
		t := time.NewTimer(work)
		select {
		case <-sctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	rel()
	rel() // a second call does nothing
	w.WriteHeader(http.StatusOK)
}

// twoInstances starts two instances on srv that share clusterKey, each
// with a ledger on its client. The caller closes them with closeAll; if
// the test fails first, its cleanup lets stuck handlers go and closes the
// servers.
func twoInstances(t *testing.T, srv *redistest.Server) ([]*instance, *ledger, *liveSlots) {
	t.Helper()
	prefix := testPrefix(t)
	g := newLedger()
	slots := &liveSlots{}
	unstop := make(chan struct{})
	letGo := sync.OnceFunc(func() { close(unstop) })
	var ins []*instance
	t.Cleanup(func() { // before the fixtures' Close
		letGo()
		for _, in := range ins {
			in.srv.Close()
		}
	})
	for range 2 {
		f := newFixture(t, srv, redisslot.Options{Prefix: prefix, Lease: clusterLease, ReleaseTimeout: 10 * time.Second})
		f.client.AddHook(g.hook())
		// Load the scripts, so that the ledger sees EVALSHA calls only.
		_, rel := mustTry(t, f.l, context.Background(), clusterKey, clusterLimit)
		rel()
		in := &instance{f: f, slots: slots, unstop: unstop, letGo: letGo, unexpected: make(chan error, 100)}
		in.srv = httptest.NewServer(in)
		ins = append(ins, in)
	}
	return ins, g, slots
}

// closeAll lets stuck handlers go, closes the servers (which waits for
// their handlers), checks that no slot is held, closes the Limiters and
// clients, and reports errors that handlers and OnError met.
func closeAll(t *testing.T, ins []*instance) {
	t.Helper()
	ins[0].letGo()
	for _, in := range ins {
		in.srv.Close() // waits for the handlers, and so for their releases
	}
	// Close would send again a free whose reply is not read yet: the
	// ledger would count that member freed twice.
	eventually(t, "every free's reply read", func() bool {
		n := 0
		for _, in := range ins {
			n += redisslot.FreesInFlight(in.f.l) + in.f.l.Stats().PendingFrees
		}
		return n == 0
	})
	if n := inUse(t, ins[0].f.l, clusterKey); n != 0 {
		t.Errorf("InUse = %d once every handler returned; want 0", n)
	}
	for _, in := range ins {
		if err := in.f.l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		_ = in.f.client.Close()
		close(in.unexpected)
		for err := range in.unexpected {
			t.Errorf("handler's Acquire: %v", err)
		}
		if errs := in.f.errs.all(); len(errs) > 0 {
			t.Errorf("OnError got %v; want nothing", errs)
		}
	}
}

// hangUpWhileWaiting fills the key from a Limiter of its own, sends a
// request to url with a short deadline, so that its handler waits and its
// client hangs up, then frees the key. It reports whether the client hung
// up; the handler counts its Acquire as ended by a hang-up.
func hangUpWhileWaiting(t *testing.T, srv *redistest.Server, hc *http.Client, url string) bool {
	t.Helper()
	fill := newFixture(t, srv, redisslot.Options{Lease: longLease})
	defer func() { _ = fill.l.Close() }()
	for range clusterLimit {
		holdAbandoned(t, fill.l, context.Background(), clusterKey, clusterLimit) // Close frees them
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := get(ctx, hc, url)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a request to a full key with a 300ms deadline returned %v; want it to hang up", err)
		return false
	}
	return true
}

// get sends one request and reports its status, or 0 with the error.
func get(ctx context.Context, c *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Two gateway instances over real HTTP share one key with
// limit 8. Dozens of clients send thousands of requests; a third of them
// hang up at a random moment, and a quarter of the handlers ignore their
// context. The slots held never exceed 8, by Redis's count and by the
// handlers' own, and at the end every member admitted was freed once.
func TestTwoInstancesOverHTTPNeverHoldMoreThanTheLimit(t *testing.T) {
	verifyNoLeaks(t)
	srv := redistest.Shared(t)
	ins, g, slots := twoInstances(t, srv)
	raw := redis.NewClient(srv.Options())
	defer raw.Close()
	rkey := testPrefix(t) + "{" + clusterKey + "}"

	const clients = 32
	requests := 2400
	if testing.Short() {
		requests = 600
	}

	// Redis's count, sampled while the load runs.
	stopSampling := make(chan struct{})
	sampled := make(chan [2]int64, 1)
	go func() {
		var most, samples int64
		for {
			select {
			case <-stopSampling:
				sampled <- [2]int64{most, samples}
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitAtOnce)
			n, err := raw.ZCard(ctx, rkey).Result()
			cancel()
			if err == nil {
				most = max(most, n)
				samples++
			}
			time.Sleep(time.Millisecond)
		}
	}()

	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr}
	var next, hungUp, ok atomic.Int64
	var wg sync.WaitGroup
	// The load takes seconds; with waiters that are never served, each
	// request would wait waitAtOnce, dozens in a row on each client.
	loadCtx, stopLoad := context.WithTimeout(context.Background(), loadBound)
	defer stopLoad()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(requests) && loadCtx.Err() == nil {
				in := ins[rand.N(len(ins))]
				mode := "watch"
				if rand.N(4) == 0 {
					mode = "ignore"
				}
				url := fmt.Sprintf("%s/?mode=%s&ms=%d", in.srv.URL, mode, 1+rand.N(8))
				ctx, cancel := context.WithTimeout(loadCtx, waitAtOnce) // a slot comes at once
				if rand.N(3) == 0 {
					// Hang up at a random moment: while waiting for a
					// slot, while holding it, or never if it is quick.
					ctx, cancel = context.WithTimeout(loadCtx, time.Duration(rand.N(12000))*time.Microsecond)
				}
				code, err := get(ctx, hc, url)
				cancel()
				switch {
				case err != nil && errors.Is(err, context.DeadlineExceeded):
					hungUp.Add(1)
				case err != nil:
					t.Errorf("GET %s: %v", url, err)
				case code == http.StatusOK:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(stopSampling)
	if loadCtx.Err() != nil {
		t.Fatalf("%d requests from %d clients did not end within %v", requests, clients, loadBound)
	}
	zcard := recv(t, sampled, waitAtOnce, "the sampler of ZCARD did not stop")
	if hangUpWhileWaiting(t, srv, hc, ins[1].srv.URL+"/?mode=watch&ms=1") {
		hungUp.Add(1)
	}
	tr.CloseIdleConnections()
	closeAll(t, ins)

	var acquired, refused int64
	for _, in := range ins {
		acquired += in.acquired.Load()
		refused += in.refused.Load()
	}
	admitted := g.check(t)
	t.Logf("%d requests from %d clients in %v: %d served, %d hung up; %d slots acquired, %d Acquire calls ended by a hang-up",
		requests, clients, took.Round(time.Millisecond), ok.Load(), hungUp.Load(), acquired, refused)
	t.Logf("most slots held: %d by the handlers' count, %d by ZCARD (%d samples); most handlers running with a slot: %d and %d",
		slots.max(), zcard[0], zcard[1], ins[0].mostRun.Load(), ins[1].mostRun.Load())
	t.Logf("members admitted by Redis: %d, each freed by exactly one release call; %d admitted for an Acquire that then gave up",
		admitted, int64(admitted)-acquired)

	if m := slots.max(); m > clusterLimit {
		t.Errorf("%d slots held at once by the handlers' count; want at most %d", m, clusterLimit)
	}
	if zcard[0] > clusterLimit {
		t.Errorf("ZCARD %s reached %d; want at most %d", rkey, zcard[0], clusterLimit)
	}
	if zcard[1] == 0 {
		t.Errorf("ZCARD never sampled")
	}
	if hungUp.Load() == 0 || refused == 0 {
		t.Errorf("%d hang-ups, %d of them while waiting; the test proves nothing about hang-ups", hungUp.Load(), refused)
	}
	if acquired > int64(admitted) || int64(admitted)-acquired > refused {
		t.Errorf("%d slots acquired in handlers, %d members admitted by Redis, %d Acquire calls gave up; want acquired ≤ admitted ≤ acquired + gave up",
			acquired, admitted, refused)
	}
	if n, err := raw.ZCard(context.Background(), rkey).Result(); err != nil || n != 0 {
		t.Errorf("ZCARD %s = %d, %v at the end; want 0", rkey, n, err)
	}
}

// Slots freed by hang-ups come back while the handlers
// that held them are still stuck (they ignore their context), and a new
// request then gets one.
func TestSlotsFreedByHangUpsComeBackWhileHandlersAreStuck(t *testing.T) {
	verifyNoLeaks(t)
	srv := redistest.Shared(t)
	ins, g, _ := twoInstances(t, srv)
	tr := &http.Transport{MaxIdleConnsPerHost: 2 * clusterLimit}
	hc := &http.Client{Transport: tr}

	// Fill every slot with a stuck handler, half on each instance.
	hangUp, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range clusterLimit {
		in := ins[i%2]
		wg.Go(func() {
			_, err := get(hangUp, hc, in.srv.URL+"/?mode=stuck")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("stuck request: %v; want it to end by its hang-up", err)
			}
		})
	}
	stuck := func() int64 { return ins[0].stuck.Load() + ins[1].stuck.Load() }
	eventually(t, "every slot held by a stuck handler", func() bool { return stuck() == clusterLimit })
	if n := inUse(t, ins[0].f.l, clusterKey); n != clusterLimit {
		t.Fatalf("InUse = %d with %d stuck holders; want %d", n, clusterLimit, clusterLimit)
	}

	// A new request waits for a slot.
	type answer struct {
		code int
		err  error
	}
	newReq := make(chan answer, 1)
	go func() {
		// Longer than the wait for its answer, which says what did not happen.
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitAtOnce)
		defer cancel()
		code, err := get(ctx, hc, ins[1].srv.URL+"/?mode=watch&ms=1")
		newReq <- answer{code, err}
	}()
	eventually(t, "the new request waits", func() bool { return redisslot.Waiters(ins[1].f.l, clusterKey) == 1 })

	hungUp := time.Now()
	cancel() // every stuck handler's client hangs up
	a := recv(t, newReq, waitAtOnce, "the new request got no slot after the hang-ups")
	servedAfter := time.Since(hungUp)
	stillStuck := stuck()
	if a.err != nil || a.code != http.StatusOK {
		t.Errorf("new request: %d, %v; want 200", a.code, a.err)
	}
	if stillStuck != clusterLimit {
		t.Errorf("%d handlers still stuck when the new request was served; want %d (the test lost its point)", stillStuck, clusterLimit)
	}
	eventually(t, "slots of the hung-up stuck handlers freed", func() bool { return inUse(t, ins[0].f.l, clusterKey) == 0 })
	freedAfter := time.Since(hungUp)
	if n := stuck(); n != clusterLimit {
		t.Errorf("%d handlers still stuck when their slots were all free; want %d", n, clusterLimit)
	}
	t.Logf("%d handlers stuck, ignoring their context: a new request served %v after their clients hung up, all slots free after %v",
		stillStuck, servedAfter.Round(time.Microsecond), freedAfter.Round(time.Microsecond))

	waitAll(t, &wg, waitAtOnce, "the stuck requests did not end on their hang-up")
	tr.CloseIdleConnections()
	closeAll(t, ins)
	if admitted := g.check(t); admitted != clusterLimit+1+2 {
		t.Errorf("%d members admitted; want %d: %d stuck, the new request, 2 warm-ups", admitted, clusterLimit+3, clusterLimit)
	}
}
