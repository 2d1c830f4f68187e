package slots_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ctxguard/release/slots"
)

// This example limits a handler to one request at a time per user. It
// answers 429 Too Many Requests when the user's slot is taken and 503
// Service Unavailable once the limiter is closed. Moving to several
// instances sharing Redis changes only the constructor: the handler is
// written against slots.Limiter.
func ExampleNewLocal() {
	var limiter slots.Limiter = slots.NewLocal(slots.LocalOptions{MaxWaiters: 100})

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "user:" + r.URL.Query().Get("user")
		ctx, release, err := limiter.TryAcquire(r.Context(), key, 1)
		switch {
		case errors.Is(err, slots.ErrFull):
			http.Error(w, "busy", http.StatusTooManyRequests)
			return
		case errors.Is(err, slots.ErrClosed):
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer release() // and the slot frees itself if the client hangs up
		_ = ctx         // do the work with ctx: it ends with the slot
		fmt.Fprint(w, "done")
	})
	get := func(user string) {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", "/?user="+user, nil))
		fmt.Println(user, rec.Code)
	}

	// Another request of alice's is in flight.
	_, inFlight, _ := limiter.TryAcquire(context.Background(), "user:alice", 1)
	get("alice")
	get("bob")
	inFlight()
	get("alice")
	limiter.Close()
	get("alice")
	// Output:
	// alice 429
	// bob 200
	// alice 200
	// alice 503
}

// This example waits at most 10ms for a slot of a key that another caller
// holds: the wait runs out, and the error matches ErrWaitTimeout and
// ErrFull (answer 429). Once the key is free, the slot comes at once, and
// its context lives on after the 10ms: the wait bounds only the wait.
func ExampleAcquireWithin() {
	limiter := slots.NewLocal(slots.LocalOptions{})
	defer limiter.Close()
	ctx := context.Background()

	_, inFlight, _ := limiter.TryAcquire(ctx, "user:42", 1)
	//lostrelease:ignore the call must fail: the key is full
	_, _, err := slots.AcquireWithin(ctx, limiter, "user:42", 1, 10*time.Millisecond)
	fmt.Println(err)
	fmt.Println(errors.Is(err, slots.ErrWaitTimeout), errors.Is(err, slots.ErrFull))

	inFlight()
	sctx, release, err := slots.AcquireWithin(ctx, limiter, "user:42", 1, 10*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer release()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("slot context after the wait:", sctx.Err())
	// Output:
	// slots: no free slot within 10ms for key "user:42"
	// true true
	// slot context after the wait: <nil>
}
