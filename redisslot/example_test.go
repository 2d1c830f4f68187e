package redisslot_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// This example caps concurrent requests at 4 per user and 100 per account,
// across every instance of a gateway that shares one Redis. Each slot is
// freed when the handler returns, or as soon as the client hangs up, even
// if the handler is still busy. (It needs a Redis, so it is not run.)
func ExampleLimiter_Acquire() {
	client := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // each Redis call ends with its ctx
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		MaxRetries:            1,
	})
	slots := redisslot.New(client, redisslot.Options{Lease: 15 * time.Second})
	defer slots.Close()

	http.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		user, account := r.Header.Get("X-User"), r.Header.Get("X-Account")

		// Wait up to 2s for a user slot.
		wait, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		userCtx, releaseUser, err := slots.Acquire(wait, "user:"+user, 4)
		if err != nil {
			http.Error(w, "too many requests for this user", http.StatusTooManyRequests)
			return
		}
		defer releaseUser()

		// Do not wait for an account slot.
		ctx, releaseAccount, err := slots.TryAcquire(userCtx, "account:"+account, 100)
		if errors.Is(err, redisslot.ErrFull) {
			http.Error(w, "too many requests for this account", http.StatusTooManyRequests)
			return
		}
		if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		defer releaseAccount()

		// ctx ends on hang-up, or when either slot is lost.
		stream(ctx, w)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}

func stream(ctx context.Context, w http.ResponseWriter) {
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), redisslot.ErrLeaseLost) {
		return // another instance may hold the slot now: stop
	}
}
