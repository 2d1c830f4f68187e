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
// if the handler is still busy. A full key gets 429; a closed Limiter or a
// Redis error, 503. (It needs a Redis, so it is not run.)
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

		// Wait up to 2s for a user slot; the slot itself lasts as long as
		// the request.
		userCtx, releaseUser, err := acquireWithin(r.Context(), slots, "user:"+user, 4, 2*time.Second)
		if err != nil {
			refuse(w, err)
			return
		}
		defer releaseUser()

		// Do not wait for an account slot.
		ctx, releaseAccount, err := slots.TryAcquire(userCtx, "account:"+account, 100)
		if err != nil {
			refuse(w, err)
			return
		}
		defer releaseAccount()

		// ctx ends on hang-up, or when either slot is lost.
		stream(ctx, w)
	})
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}

var errWaitedTooLong = errors.New("waited too long for a slot")

// acquireWithin waits at most wait for a slot of key. The timer bounds
// the wait only: context.WithTimeout around Acquire would end the slot's
// context too, mid-work.
func acquireWithin(ctx context.Context, l *redisslot.Limiter, key string, limit int, wait time.Duration) (context.Context, func(), error) {
	waitCtx, stop := context.WithCancel(ctx)
	timer := time.AfterFunc(wait, stop)
	sctx, release, err := l.Acquire(waitCtx, key, limit)
	if err == nil && !timer.Stop() { // the time ran out as the slot came
		release()
		err = errWaitedTooLong
	}
	if err != nil {
		stop()
		if ctx.Err() == nil && waitCtx.Err() != nil {
			err = errWaitedTooLong
		}
		return nil, nil, err
	}
	return sctx, func() { release(); stop() }, nil
}

// refuse answers a request that got no slot.
func refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, redisslot.ErrFull), errors.Is(err, errWaitedTooLong): // ErrQueueFull too
		http.Error(w, err.Error(), http.StatusTooManyRequests)
	case errors.Is(err, context.Canceled): // the client hung up: nobody to answer
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
