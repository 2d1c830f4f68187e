package slotshttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctxguard/release/slots"
	"github.com/ctxguard/release/slots/slotshttp"
)

// hangGuard bounds every wait for what, with working code, happens at once.
const hangGuard = 10 * time.Second

// userKey is the key func of the tests: the user's slots, limit in the
// query (1 unless given); an empty key when the query names no user.
func userKey(r *http.Request) (string, int) {
	limit := 1
	if s := r.URL.Query().Get("limit"); s != "" {
		fmt.Sscan(s, &limit)
	}
	user := r.URL.Query().Get("user")
	if user == "" {
		return "", limit
	}
	return "user:" + user, limit
}

// accountKey is the key func of the account's slots, one each.
func accountKey(r *http.Request) (string, int) {
	return "account:" + r.URL.Query().Get("account"), 1
}

// A writeLog is a ResponseWriter that records what was written to it.
type writeLog struct {
	header http.Header
	code   int // 0 until WriteHeader or Write
	body   strings.Builder
}

func newWriteLog() *writeLog { return &writeLog{header: http.Header{}} }

func (w *writeLog) Header() http.Header { return w.header }
func (w *writeLog) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *writeLog) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// served is a handler that answers 200 "served" and counts its calls.
type served struct{ calls atomic.Int64 }

func (s *served) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	fmt.Fprint(w, "served")
}

// errLimiter is a Limiter whose every call fails with err, and which counts
// the calls that ask for a slot.
type errLimiter struct {
	err   error
	calls atomic.Int64
}

func (l *errLimiter) TryAcquire(context.Context, string, int) (context.Context, func(), error) {
	l.calls.Add(1)
	return nil, nil, l.err
}

func (l *errLimiter) Acquire(context.Context, string, int) (context.Context, func(), error) {
	l.calls.Add(1)
	return nil, nil, l.err
}
func (l *errLimiter) InUse(context.Context, string) (int, error)            { return 0, l.err }
func (l *errLimiter) Load(context.Context, ...string) ([]slots.Load, error) { return nil, l.err }
func (l *errLimiter) Close() error                                          { return nil }

// TestLimitAnswersRefusals checks the default answer to each refusal,
// and that a refused request never reaches the next handler: 429 with
// Retry-After for a full key, a full line and a wait that ran out; 503
// for a closed Limiter and a backend error; 500, without asking the
// Limiter, for an empty key or a limit below 1; nothing for a client
// already gone.
func TestLimitAnswersRefusals(t *testing.T) {
	backend := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	tests := []struct {
		name       string
		limiter    func(t *testing.T) slots.Limiter
		opts       slotshttp.Options
		query      string
		gone       bool
		code       int
		retryAfter string
		calls      int64 // of an errLimiter: -1 for another Limiter
	}{
		{"full key", heldLocal, slotshttp.Options{}, "user=u", false, 429, "1", -1},
		{"full key, Retry-After rounded up", heldLocal, slotshttp.Options{RetryAfter: 1500 * time.Millisecond}, "user=u", false, 429, "2", -1},
		{"full line", queuedLocal, slotshttp.Options{Wait: time.Minute}, "user=u", false, 429, "1", -1},
		{"wait ran out", heldLocal, slotshttp.Options{Wait: 2 * time.Second}, "user=u", false, 429, "1", -1},
		{"closed", closedLocal, slotshttp.Options{}, "user=u", false, 503, "", -1},
		{"closed, waiting", closedLocal, slotshttp.Options{Wait: time.Minute}, "user=u", false, 503, "", -1},
		{"backend error", func(*testing.T) slots.Limiter { return &errLimiter{err: backend} }, slotshttp.Options{}, "user=u", false, 503, "", 1},
		{"empty key", func(*testing.T) slots.Limiter { return &errLimiter{err: backend} }, slotshttp.Options{}, "", false, 500, "", 0},
		{"limit 0", func(*testing.T) slots.Limiter { return &errLimiter{err: backend} }, slotshttp.Options{}, "user=u&limit=0", false, 500, "", 0},
		{"client gone, full key", heldLocal, slotshttp.Options{}, "user=u", true, 0, "", -1},
		{"client gone, backend error", func(*testing.T) slots.Limiter { return &errLimiter{err: backend} }, slotshttp.Options{}, "user=u", true, 0, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := tt.limiter(t)
				next := &served{}
				h := slotshttp.Limit(l, userKey, tt.opts)(next)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.gone {
					cancel()
				}
				w := newWriteLog()
				start := time.Now()
				h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, "GET", "/?"+tt.query, nil))
				if w.code != tt.code || w.header.Get("Retry-After") != tt.retryAfter {
					t.Errorf("answered %d, Retry-After %q, body %q; want %d, Retry-After %q", w.code, w.header.Get("Retry-After"), w.body.String(), tt.code, tt.retryAfter)
				}
				if tt.code != 0 && w.body.String() != http.StatusText(tt.code)+"\n" {
					t.Errorf("body %q; want the status text", w.body.String())
				}
				if n := next.calls.Load(); n != 0 {
					t.Errorf("the next handler served a refused request %d times", n)
				}
				if el, ok := l.(*errLimiter); ok && el.calls.Load() != tt.calls {
					t.Errorf("the Limiter was asked for a slot %d times; want %d", el.calls.Load(), tt.calls)
				}
				if took := time.Since(start); took != tt.opts.Wait && tt.name == "wait ran out" {
					t.Errorf("answered after %v; want the wait, %v", took, tt.opts.Wait)
				}
			})
		})
	}
}

// heldLocal returns a Local whose key user:u is held (limit 1) until the
// test ends.
func heldLocal(t *testing.T) slots.Limiter {
	l := slots.NewLocal(slots.LocalOptions{MaxWaiters: 1})
	t.Cleanup(func() { l.Close() })
	if _, _, err := l.TryAcquire(t.Context(), "user:u", 1); err != nil { //lostrelease:ignore the slot ends with the test's ctx
		t.Fatal(err)
	}
	return l
}

// queuedLocal returns a heldLocal whose key user:u also has a waiter,
// as many as its cap allows, until the test ends.
func queuedLocal(t *testing.T) slots.Limiter {
	l := heldLocal(t)
	go l.Acquire(t.Context(), "user:u", 1) //lostrelease:ignore the waiter ends with the test's ctx
	synctest.Wait()
	return l
}

// closedLocal returns a closed Local.
func closedLocal(t *testing.T) slots.Limiter {
	l := slots.NewLocal(slots.LocalOptions{})
	l.Close()
	return l
}

// TestLimitOnRefuseAnswersEveryRefusal checks that OnRefuse replaces the
// default answer, with the refusal's error, also for a client already
// gone and for an empty key.
func TestLimitOnRefuseAnswersEveryRefusal(t *testing.T) {
	l := heldLocal(t)
	var got []error
	h := slotshttp.Limit(l, userKey, slotshttp.Options{OnRefuse: func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		w.WriteHeader(http.StatusTeapot)
	}})(&served{})
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	for _, ctx := range []context.Context{t.Context(), gone} {
		w := newWriteLog()
		h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, "GET", "/?user=u", nil))
		if w.code != http.StatusTeapot || w.header.Get("Retry-After") != "" {
			t.Errorf("answered %d, Retry-After %q; want OnRefuse's 418 alone", w.code, w.header.Get("Retry-After"))
		}
	}
	w := newWriteLog()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/?user=", nil))
	if len(got) != 3 || !errors.Is(got[0], slots.ErrFull) || !errors.Is(got[1], context.Canceled) || !strings.HasPrefix(got[2].Error(), "slotshttp: ") {
		t.Errorf("OnRefuse got %v; want ErrFull, context.Canceled, then slotshttp's error for the empty key", got)
	}
}

// TestLimitPanicsOnMisuse checks that a nil Limiter, key func or next
// handler and a negative option panic with a message starting "slotshttp: ".
func TestLimitPanicsOnMisuse(t *testing.T) {
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	cases := map[string]func(){
		"nil Limiter":         func() { slotshttp.Limit(nil, userKey, slotshttp.Options{}) },
		"nil key":             func() { slotshttp.Limit(l, nil, slotshttp.Options{}) },
		"negative Wait":       func() { slotshttp.Limit(l, userKey, slotshttp.Options{Wait: -1}) },
		"negative RetryAfter": func() { slotshttp.Limit(l, userKey, slotshttp.Options{RetryAfter: -1}) },
		"nil next":            func() { slotshttp.Limit(l, userKey, slotshttp.Options{})(nil) },
	}
	for name, f := range cases {
		if msg := panicMessage(f); !strings.HasPrefix(msg, "slotshttp: ") {
			t.Errorf("%s: panic %q; want a panic starting %q", name, msg, "slotshttp: ")
		}
	}
}

// panicMessage returns what f panicked with, as a string, or "" if it did
// not panic.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// TestLimitReleasesWhenTheHandlerReturns checks that the slot is free as
// soon as the next handler returns, or panics, on a request whose context
// outlives it (net/http would end it a moment later and hide a slot kept).
func TestLimitReleasesWhenTheHandlerReturns(t *testing.T) {
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	inUse := func(key string) int {
		n, err := l.InUse(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, wait := range []time.Duration{0, hangGuard} {
		for _, panics := range []bool{false, true} {
			user := fmt.Sprintf("u-%v-%t", wait, panics) // a key of its own: a slot kept holds up no other case
			var during int
			h := slotshttp.Limit(l, userKey, slotshttp.Options{Wait: wait})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				during = inUse("user:" + user)
				if panics {
					panic("handler failed")
				}
			}))
			msg := panicMessage(func() {
				h.ServeHTTP(newWriteLog(), httptest.NewRequestWithContext(t.Context(), "GET", "/?user="+user, nil))
			})
			if after := inUse("user:" + user); during != 1 || after != 0 || (msg != "") != panics {
				t.Errorf("wait %v, handler panics %t: InUse %d while served, %d after, panic %q; want 1, then 0", wait, panics, during, after, msg)
			}
		}
	}
}
