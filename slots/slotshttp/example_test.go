package slotshttp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ctxguard/release/slots"
	"github.com/ctxguard/release/slots/slotshttp"
)

// This example caps requests at 2 in flight per user, waiting up to 2s for
// a slot, and at 1 per account, without waiting: two middlewares, chained.
// A request of a full account gets 429 with Retry-After, and the slot its
// user held for it is given back; once the Limiter is closed, requests get
// 503.
func ExampleLimit() {
	limiter := slots.NewLocal(slots.LocalOptions{MaxWaiters: 20})
	perUser := slotshttp.Limit(limiter, func(r *http.Request) (string, int) {
		return "user:" + r.Header.Get("X-User"), 2
	}, slotshttp.Options{Wait: 2 * time.Second})
	perAccount := slotshttp.Limit(limiter, func(r *http.Request) (string, int) {
		return "account:" + r.Header.Get("X-Account"), 1
	}, slotshttp.Options{})
	handler := perUser(perAccount(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "served") // r.Context() ends with either slot
	})))

	get := func(user, account string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-User", user)
		r.Header.Set("X-Account", account)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if after := w.Header().Get("Retry-After"); after != "" {
			fmt.Println(user, account, w.Code, "Retry-After:", after)
			return
		}
		fmt.Println(user, account, w.Code)
	}

	_, inFlight, _ := limiter.TryAcquire(context.Background(), "account:acme", 1) // another request of acme's
	get("alice", "acme")
	get("alice", "initech")
	inFlight()
	get("alice", "acme")
	limiter.Close()
	get("alice", "acme")
	// Output:
	// alice acme 429 Retry-After: 1
	// alice initech 200
	// alice acme 200
	// alice acme 503
}
