package redisslot_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/slots"
	"github.com/redis/go-redis/v9"
)

// This example caps concurrent requests at 4 per user and 100 per account,
// across every instance of a gateway that shares one Redis. Each slot is
// freed when the handler returns, or as soon as the client hangs up, even
// if the handler is still busy. A full key, a full line or a wait that ran
// out gets 429; a closed Limiter or a Redis error, 503. (It needs a Redis,
// so it is not run.)
func ExampleLimiter_Acquire() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // each Redis call ends at its ctx's deadline
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		MaxRetries:            1,
	})
	limiter := redisslot.New(client, redisslot.Options{Lease: 15 * time.Second, MaxWaiters: 20})
	defer limiter.Close()

	http.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		user, account := r.Header.Get("X-User"), r.Header.Get("X-Account")

		// Wait up to 2s for a user slot; the slot itself lasts as long as
		// the request.
		userCtx, releaseUser, err := slots.AcquireWithin(r.Context(), limiter, "user:"+user, 4, 2*time.Second)
		if err != nil {
			refuse(w, r, err)
			return
		}
		defer releaseUser()

		// Do not wait for an account slot.
		ctx, releaseAccount, err := limiter.TryAcquire(userCtx, "account:"+account, 100)
		if err != nil {
			refuse(w, r, err)
			return
		}
		defer releaseAccount()

		// ctx ends on hang-up, or when either slot is lost.
		stream(ctx, w)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}

// refuse answers a request that got no slot.
func refuse(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case r.Context().Err() != nil: // the client hung up: nobody to answer
	case errors.Is(err, slots.ErrFull): // ErrQueueFull and ErrWaitTimeout too
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	default: // ErrClosed (shutting down) or a Redis error
		http.Error(w, "try again later", http.StatusServiceUnavailable)
	}
}

func stream(ctx context.Context, w http.ResponseWriter) {
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), redisslot.ErrLeaseLost) {
		return // another instance may hold the slot now: stop
	}
}
