package slotshttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
	"github.com/ctxguard/release/slots/slotshttp"
	"go.uber.org/goleak"
)

// noLeaks checks, once the test and its cleanups are done (its servers
// closed), that it left no goroutine behind.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// An outcome is what a middleware did with one request: the status it
// wrote (0 for nothing) and whether the next handler ran.
type outcome struct {
	code   int
	served bool
}

// A gate is the next handler of the server tests. Each request it serves
// reports its slot's context on started, then waits for unblock (not for
// its context: a handler stuck on an upstream), and answers 200.
type gate struct {
	started chan context.Context
	unblock chan struct{}
	once    sync.Once
}

func newGate() *gate {
	return &gate{started: make(chan context.Context, 16), unblock: make(chan struct{})}
}

// open lets every request through, now and from now on.
func (g *gate) open() { g.once.Do(func() { close(g.unblock) }) }

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.started <- r.Context()
	<-g.unblock
	fmt.Fprint(w, "served")
}

// serve starts a real server on 127.0.0.1 whose handler is mw around g,
// and returns it with the channel on which the outcome of each request
// arrives once the middleware has returned. When the test ends, g opens,
// so that a test that failed early does not hang, and then the server and
// its clients' connections are closed.
func serve(t *testing.T, mw func(http.Handler) http.Handler, g *gate) (*httptest.Server, <-chan outcome) {
	t.Helper()
	outcomes := make(chan outcome, 16)
	h := mw(g)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lw := &loggedWriter{ResponseWriter: w}
		h.ServeHTTP(lw, r)
		outcomes <- outcome{lw.code, lw.served}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(g.open) // first
	return srv, outcomes
}

// loggedWriter records the status its handler wrote, and whether the
// gate answered.
type loggedWriter struct {
	http.ResponseWriter
	code   int
	served bool
}

func (w *loggedWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggedWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.served = w.served || string(p) == "served"
	return w.ResponseWriter.Write(p)
}

// get sends GET path to srv on a goroutine of its own, with ctx, and
// returns the channel on which its status arrives (0 with an error).
func get(ctx context.Context, srv *httptest.Server, path string) <-chan int {
	ch := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			ch <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	return ch
}

// recv returns the next value of ch, waiting at most hangGuard.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangGuard):
		t.Fatalf("%s: nothing after %v", what, hangGuard)
		panic("unreachable")
	}
}

// loadIs polls until l's Load of key has inUse holders and waiting waiters.
func loadIs(t *testing.T, l slots.Limiter, key string, inUse, waiting int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for {
		loads, err := l.Load(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if loads[0].InUse == inUse && loads[0].Waiting == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Load(%q) = %+v after %v; want InUse %d, Waiting %d", key, loads[0], hangGuard, inUse, waiting)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLimitHoldsTheSlotWhileServing checks, on a real server, that the
// next handler runs with the slot's context, which carries the request's
// values, while the request holds the slot, and that the slot is free once
// the handler has returned.
func TestLimitHoldsTheSlotWhileServing(t *testing.T) {
	noLeaks(t)
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	g := newGate()
	srv, outcomes := serve(t, slotshttp.Limit(l, userKey, slotshttp.Options{Wait: time.Minute}), g)

	code := get(t.Context(), srv, "/?user=a")
	ctx := recv(t, g.started, "handler start")
	loadIs(t, l, "user:a", 1, 0)
	if ctx.Value(http.ServerContextKey) != srv.Config {
		t.Errorf("the handler's context lacks the request's values")
	}
	l.Close() // a slot's context ends when the Limiter takes it back; the request's would not
	if got := context.Cause(ctx); got != slots.ErrClosed {
		t.Errorf("the handler's context after Close: cause %v; want ErrClosed, as the slot's", got)
	}
	g.open()
	if got := recv(t, code, "response"); got != http.StatusOK {
		t.Errorf("status %d; want 200", got)
	}
	if o := recv(t, outcomes, "middleware"); !o.served {
		t.Errorf("outcome %+v; want served", o)
	}
}

// TestLimitChainsUserAndAccount checks two middlewares chained, per user
// and per account: a request refused by the account's slot gives back its
// user's slot, and one refused by its user's never asks for the account's.
func TestLimitChainsUserAndAccount(t *testing.T) {
	noLeaks(t)
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	perUser := slotshttp.Limit(l, userKey, slotshttp.Options{})
	perAccount := slotshttp.Limit(l, accountKey, slotshttp.Options{})
	g := newGate()
	srv, outcomes := serve(t, func(h http.Handler) http.Handler { return perUser(perAccount(h)) }, g)

	first := get(t.Context(), srv, "/?user=a&account=x")
	recv(t, g.started, "first request")
	for _, c := range []struct{ path, why string }{
		{"/?user=b&account=x", "account x full"},
		{"/?user=a&account=y", "user a full"},
	} {
		if got := recv(t, get(t.Context(), srv, c.path), c.why); got != http.StatusTooManyRequests {
			t.Errorf("%s: status %d; want 429", c.why, got)
		}
		recv(t, outcomes, c.why)
	}
	loads, _ := l.Load(t.Context(), "user:a", "user:b", "account:x", "account:y")
	if fmt.Sprint(loads) != "[{user:a 1 0} {user:b 0 0} {account:x 1 0} {account:y 0 0}]" {
		t.Errorf("Load = %v; want only the first request's two slots held", loads)
	}
	g.open()
	if got := recv(t, first, "first request"); got != http.StatusOK {
		t.Errorf("first request: status %d; want 200", got)
	}
	recv(t, outcomes, "first request")
	loadIs(t, l, "user:a", 0, 0)
	loadIs(t, l, "account:x", 0, 0)
}

// TestLimitClientHangsUpWhileWaiting checks, on a real server, that a
// request whose client hangs up while it waits for a slot leaves the line
// at once, writes nothing and never reaches the handler.
func TestLimitClientHangsUpWhileWaiting(t *testing.T) {
	noLeaks(t)
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	g := newGate()
	srv, outcomes := serve(t, slotshttp.Limit(l, userKey, slotshttp.Options{Wait: time.Minute}), g)

	holder := get(t.Context(), srv, "/?user=a")
	recv(t, g.started, "holder")
	ctx, hangUp := context.WithCancel(t.Context())
	waiter := get(ctx, srv, "/?user=a")
	loadIs(t, l, "user:a", 1, 1)
	hangUp()
	if got := recv(t, waiter, "waiter's client"); got != 0 {
		t.Errorf("waiter's client got status %d; want its own error", got)
	}
	if o := recv(t, outcomes, "waiter"); o != (outcome{}) {
		t.Errorf("waiter whose client hung up: outcome %+v; want nothing written, not served", o)
	}
	loadIs(t, l, "user:a", 1, 0)
	g.open()
	recv(t, holder, "holder")
	recv(t, outcomes, "holder")
	loadIs(t, l, "user:a", 0, 0)
}

// TestLimitClientHangsUpWhileServed checks, on a real server, that a
// request whose client hangs up while its handler is stuck frees its slot
// at once, so that another request is served meanwhile, and that the stuck
// handler's context has ended.
func TestLimitClientHangsUpWhileServed(t *testing.T) {
	noLeaks(t)
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	g := newGate()
	srv, outcomes := serve(t, slotshttp.Limit(l, userKey, slotshttp.Options{}), g)

	ctx, hangUp := context.WithCancel(t.Context())
	stuck := get(ctx, srv, "/?user=a")
	stuckCtx := recv(t, g.started, "stuck handler")
	hangUp()
	recv(t, stuck, "stuck request's client")
	loadIs(t, l, "user:a", 0, 0) // while the stuck handler still runs
	select {
	case <-stuckCtx.Done():
	default:
		t.Errorf("the stuck handler's context is not done after its client hung up")
	}
	next := get(t.Context(), srv, "/?user=a")
	recv(t, g.started, "next request, served while the stuck one runs")
	g.open()
	if got := recv(t, next, "next request"); got != http.StatusOK {
		t.Errorf("next request: status %d; want 200", got)
	}
	for range 2 {
		recv(t, outcomes, "handlers")
	}
	loadIs(t, l, "user:a", 0, 0)
}

// TestLimitInnerRefusalAfterOuterSlotTakenBack checks that when the slot
// an outer middleware holds is taken back while the inner one waits (its
// Limiter closed), the client, still there, gets 503, not silence.
func TestLimitInnerRefusalAfterOuterSlotTakenBack(t *testing.T) {
	noLeaks(t)
	users := slots.NewLocal(slots.LocalOptions{})
	defer users.Close()
	accounts := slots.NewLocal(slots.LocalOptions{})
	defer accounts.Close()
	perUser := slotshttp.Limit(users, userKey, slotshttp.Options{})
	perAccount := slotshttp.Limit(accounts, accountKey, slotshttp.Options{Wait: time.Minute})
	g := newGate()
	srv, outcomes := serve(t, func(h http.Handler) http.Handler { return perUser(perAccount(h)) }, g)

	_, rel, err := accounts.TryAcquire(t.Context(), "account:x", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	waiting := get(t.Context(), srv, "/?user=a&account=x")
	loadIs(t, accounts, "account:x", 1, 1)
	users.Close()
	if got := recv(t, waiting, "request whose user slot was taken back"); got != http.StatusServiceUnavailable {
		t.Errorf("status %d; want 503", got)
	}
	if o := recv(t, outcomes, "request"); o.code != http.StatusServiceUnavailable || o.served {
		t.Errorf("outcome %+v; want 503, not served", o)
	}
	loadIs(t, accounts, "account:x", 1, 0)
}

// TestLimitClosedLimiterAnswers503ToWaiters checks, on a real server, that
// a request waiting in line when its Limiter closes gets 503.
func TestLimitClosedLimiterAnswers503ToWaiters(t *testing.T) {
	noLeaks(t)
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	g := newGate()
	srv, outcomes := serve(t, slotshttp.Limit(l, userKey, slotshttp.Options{Wait: time.Minute}), g)

	holder := get(t.Context(), srv, "/?user=a")
	holderCtx := recv(t, g.started, "holder")
	waiter := get(t.Context(), srv, "/?user=a")
	loadIs(t, l, "user:a", 1, 1)
	l.Close()
	if got := recv(t, waiter, "waiter"); got != http.StatusServiceUnavailable {
		t.Errorf("waiter when the Limiter closed: status %d; want 503", got)
	}
	if got := context.Cause(holderCtx); !errors.Is(got, slots.ErrClosed) {
		t.Errorf("holder's context after Close: cause %v; want ErrClosed", got)
	}
	g.open()
	recv(t, holder, "holder")
	for range 2 {
		recv(t, outcomes, "handlers")
	}
}
