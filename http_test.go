package release_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release"
	"go.uber.org/goleak"
)

// limiter hands out a fixed number of slots and records every acquire and
// release, including a release of a slot that is not held.
type limiter struct {
	mu       sync.Mutex
	cap      int
	inUse    int
	acquired int
	released int
	over     int           // releases with no slot held
	freed    chan struct{} // one value per release, if not nil
}

func newLimiter(n int) *limiter { return &limiter{cap: n} }

func (l *limiter) tryAcquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inUse == l.cap {
		return false
	}
	l.inUse++
	l.acquired++
	return true
}

func (l *limiter) release() {
	l.mu.Lock()
	if l.inUse == 0 {
		l.over++
	} else {
		l.inUse--
		l.released++
	}
	l.mu.Unlock()
	if l.freed != nil {
		l.freed <- struct{}{}
	}
}

func (l *limiter) stats() (inUse, acquired, released, over int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inUse, l.acquired, l.released, l.over
}

// get sends a GET to url with ctx and reports the status, or 0 if the
// request failed (as it does when ctx ends first).
func get(ctx context.Context, client *http.Client, url string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHTTPHangUpFreesSlotsOfStuckHandlers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const slots = 4
	lim := newLimiter(slots)
	lim.freed = make(chan struct{}, 2*slots+1)
	upstream := make(chan struct{}) // ignores the request context
	started := make(chan struct{}, slots)
	var stuckReturned atomic.Int32

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !lim.tryAcquire() {
			http.Error(w, "no slot", http.StatusServiceUnavailable)
			return
		}
		rel := release.WrapOnDone(r.Context(), lim.release)
		defer rel()
		if r.URL.Path == "/quick" {
			return
		}
		defer stuckReturned.Add(1)
		started <- struct{}{}
		<-upstream
	}))
	defer srv.Close()
	client := srv.Client()

	ctx, hangUp := context.WithCancel(context.Background())
	var clients sync.WaitGroup
	for range slots {
		clients.Go(func() { get(ctx, client, srv.URL+"/stuck") })
	}
	for range slots {
		waitFor(t, started, "a stuck handler to take a slot")
	}
	if got := get(context.Background(), client, srv.URL+"/quick"); got != http.StatusServiceUnavailable {
		t.Fatalf("with every slot held, a request got status %d; want %d", got, http.StatusServiceUnavailable)
	}

	hangUp()
	for range slots {
		waitFor(t, lim.freed, "a hang-up to free a slot")
	}
	clients.Wait()
	if n := stuckReturned.Load(); n != 0 {
		t.Fatalf("%d stuck handlers returned before the upstream did; the test needs them stuck", n)
	}
	inUse, _, _, _ := lim.stats()
	if inUse != 0 {
		t.Fatalf("after every client hung up, %d slots are in use while handlers are stuck; want 0", inUse)
	}
	if got := get(context.Background(), client, srv.URL+"/quick"); got != http.StatusOK {
		t.Fatalf("after the hang-ups, a new request got status %d; want %d", got, http.StatusOK)
	}
	waitFor(t, lim.freed, "the new request to free its slot")

	close(upstream)
	srv.Close() // waits for the stuck handlers, whose deferred releases must do nothing
	inUse, acquired, released, over := lim.stats()
	t.Logf("stuck handlers: %d slots freed by hang-ups while stuck; then acquired %d, released %d, in use %d, double releases %d",
		slots, acquired, released, inUse, over)
	if inUse != 0 || acquired != released || over != 0 {
		t.Fatalf("after the handlers returned: in use %d, acquired %d, released %d, double releases %d; want 0, equal, 0",
			inUse, acquired, released, over)
	}
}

func TestHTTPLoadWithHangUps(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const (
		slots    = 8
		clients  = 32
		requests = 3000
	)
	lim := newLimiter(slots)
	var rejected, served, freedByHangUp atomic.Int64
	var running, maxRunning atomic.Int64 // handlers holding or having held a slot, not yet returned
	holding := make(chan bool, 1)        // ?hold requests: whether they got a slot
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hold := r.URL.Query().Has("hold")
		if !lim.tryAcquire() {
			rejected.Add(1)
			if hold {
				holding <- false
			}
			http.Error(w, "no slot", http.StatusServiceUnavailable)
			return
		}
		freed := make(chan struct{})
		rel := release.WrapOnDoneCause(r.Context(), func(cause error) {
			if cause != nil {
				freedByHangUp.Add(1)
			}
			lim.release()
			close(freed)
		})
		defer rel()
		n := running.Add(1)
		defer running.Add(-1)
		for m := maxRunning.Load(); n > m; m = maxRunning.Load() {
			if maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		if hold { // stuck until the hang-up has freed the slot
			holding <- true
			select {
			case <-freed:
			case <-time.After(time.Minute):
				t.Error("a client hung up while its handler held a slot; the slot was not freed within a minute")
			}
			return
		}
		// Work that ignores the request context, as a stuck upstream does.
		time.Sleep(time.Duration(rand.N(200)) * time.Microsecond)
		served.Add(1)
	}))
	defer srv.Close()
	client := srv.Client()

	start := time.Now()
	var next atomic.Int64
	var hungUp, ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= requests {
				ctx, cancel := context.WithCancel(context.Background())
				var hangUp *time.Timer
				if rand.N(3) == 0 {
					// Hang up at a random moment: before, during or after
					// the handler's work.
					hungUp.Add(1)
					hangUp = time.AfterFunc(time.Duration(rand.N(300))*time.Microsecond, cancel)
				}
				if get(ctx, client, srv.URL) == http.StatusOK {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
				if hangUp != nil {
					hangUp.Stop()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	// Both paths by construction, whatever the load did: a request whose
	// handler frees its slot, and one whose client hangs up while its
	// handler holds it.
	if got := get(context.Background(), client, srv.URL); got != http.StatusOK {
		t.Fatalf("a request after the load got status %d; want %d", got, http.StatusOK)
	}
	hangUpWhileHeld(t, client, srv.URL+"?hold", holding)
	srv.Close() // waits for every handler
	client.CloseIdleConnections()

	inUse, acquired, released, over := lim.stats()
	t.Logf("load: %d requests from %d clients in %v: %d hung up, %d OK, %d failed or hung up, %d rejected for want of a slot; "+
		"slots acquired %d, released %d (%d after a hang-up, before the handler returned), in use %d, double releases %d; "+
		"at most %d handlers ran at once with %d slots",
		requests, clients, time.Since(start).Round(time.Millisecond), hungUp.Load(), ok.Load(), failed.Load(),
		rejected.Load(), acquired, released, freedByHangUp.Load(), inUse, over, maxRunning.Load(), slots)
	if inUse != 0 || acquired != released || over != 0 {
		t.Fatalf("in use %d, acquired %d, released %d, double releases %d; want 0, equal, 0", inUse, acquired, released, over)
	}
	if acquired == 0 || freedByHangUp.Load() == 0 || freedByHangUp.Load() == int64(acquired) {
		t.Fatalf("of %d slots, %d were freed by a hang-up; want some, and some freed by their handler", acquired, freedByHangUp.Load())
	}
}

// hangUpWhileHeld sends requests to url until one's handler reports on
// holding that it holds a slot, then hangs up that request.
func hangUpWhileHeld(t *testing.T, client *http.Client, url string, holding <-chan bool) {
	t.Helper()
	hangGuard := time.After(time.Minute)
	for {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		go func() { done <- get(ctx, client, url) }()
		var held bool
		select {
		case held = <-holding:
		case <-hangGuard:
			cancel()
			<-done
			t.Fatal("no ?hold request got a slot within a minute")
		}
		cancel()
		<-done
		if held {
			return
		}
	}
}

// TestHTTPRequestContextHoldsNoGoroutine checks that a pending guard on a
// net/http request context starts no goroutine.
func TestHTTPRequestContextHoldsNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const pending = 100
	var watching int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before := watchers()
		rels := make([]func(), pending)
		for i := range rels {
			rels[i] = release.WrapOnDone(r.Context(), func() {})
		}
		watching = watchers() - before
		for _, rel := range rels {
			rel()
		}
	}))
	defer srv.Close()
	if got := get(context.Background(), srv.Client(), srv.URL); got != http.StatusOK {
		t.Fatalf("request got status %d; want %d", got, http.StatusOK)
	}
	srv.Close()
	if watching != 0 {
		t.Fatalf("%d pending guards on a request context have %d watcher goroutines; want 0", pending, watching)
	}
}
