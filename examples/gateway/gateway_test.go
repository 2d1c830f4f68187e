package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
)

// errLimiter is a Limiter whose every call fails with err.
type errLimiter struct{ err error }

func (l errLimiter) TryAcquire(context.Context, string, int) (context.Context, func(), error) {
	return nil, nil, l.err
}

func (l errLimiter) Acquire(context.Context, string, int) (context.Context, func(), error) {
	return nil, nil, l.err
}
func (l errLimiter) InUse(context.Context, string) (int, error)            { return 0, l.err }
func (l errLimiter) Load(context.Context, ...string) ([]slots.Load, error) { return nil, l.err }
func (l errLimiter) Close() error                                          { return nil }

// TestGatewayAnswersRefusals checks the answer to each way of not getting a
// slot: 429 when the caller may try again soon, 503 when the gateway cannot
// serve, nothing when the client is gone; each names the slot and the reason.
func TestGatewayAnswersRefusals(t *testing.T) {
	closed := slots.NewLocal(slots.LocalOptions{})
	closed.Close()
	accountTaken := slots.NewLocal(slots.LocalOptions{})
	defer accountTaken.Close()
	_, releaseAccount, err := accountTaken.TryAcquire(context.Background(), accountKey("a1"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAccount()
	gone, cancel := context.WithCancel(context.Background())
	cancel()

	for _, tc := range []struct {
		name     string
		limiter  slots.Limiter
		ctx      context.Context
		code     int
		reason   string
		wantBody bool
	}{
		{"account full", accountTaken, context.Background(), http.StatusTooManyRequests, "account full", true},
		{"user queue full", errLimiter{fmt.Errorf("wrapped: %w", slots.ErrQueueFull)}, context.Background(), http.StatusTooManyRequests, "user queue full", true},
		{"user waited too long", errLimiter{fmt.Errorf("wrapped: %w", slots.ErrWaitTimeout)}, context.Background(), http.StatusTooManyRequests, "user waited too long", true},
		{"closed", closed, context.Background(), http.StatusServiceUnavailable, "user closed", true},
		{"backend error", errLimiter{errors.New("dial tcp: connection refused")}, context.Background(), http.StatusServiceUnavailable, "user backend error", true},
		{"client gone", errLimiter{context.Canceled}, gone, http.StatusOK, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gateway{
				limiter: tc.limiter,
				limits:  limits{user: 1, account: 1},
				stream:  streamSpec{chunks: 2, every: time.Millisecond},
				tracker: newTracker(),
				stats:   new(gatewayStats),
			}
			r := httptest.NewRequestWithContext(tc.ctx, http.MethodGet, "/stream?user=a1-u1&account=a1", nil)
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != tc.code || w.Header().Get(reasonHeader) != tc.reason || (w.Body.Len() > 0) != tc.wantBody {
				t.Errorf("got %d, %s %q, body %q; want %d, %q, body %v",
					w.Code, reasonHeader, w.Header().Get(reasonHeader), w.Body, tc.code, tc.reason, tc.wantBody)
			}
		})
	}
	if n, _ := accountTaken.InUse(context.Background(), userKey("a1-u1")); n != 0 {
		t.Errorf("user slot held %d times after the account refused; want 0", n)
	}
}
