package falsereports2

import (
	"context"
	"errors"
	"net/http"

	"github.com/ctxguard/release/slots"
)

// admitAccount takes, besides the status, the account's name for its
// refusal: a second parameter of a basic type, of which its returns say
// nothing.
func admitAccount(w http.ResponseWriter, st status, account string) bool { // want admitAccount:"isPredicate true:0 false:!0 param:1"
	if st == statusOK {
		return true
	}
	http.Error(w, "account "+account+" is busy", http.StatusTooManyRequests)
	return false
}

func handleAdmitAccount(w http.ResponseWriter, r *http.Request, l slots.Limiter) {
	rel, st := acquireAccountSlot(r.Context(), l, "a")
	if !admitAccount(w, st, "a") {
		return
	}
	defer rel()
	_ = step()
}

// shouldRetry takes the attempt number, in a failover loop.
func shouldRetry(st status, attempt int) bool { // want shouldRetry:"isPredicate true:1 false:!"
	if attempt >= 3 {
		return false
	}
	return st == statusFull
}

func retryWhileFull(ctx context.Context, l slots.Limiter) error {
	for attempt := 0; ; attempt++ {
		rel, st := acquireAccountSlot(ctx, l, "a")
		if shouldRetry(st, attempt) {
			continue
		}
		if st != statusOK {
			return errors.New("refused")
		}
		defer rel()
		return step()
	}
}

// admitNth takes the attempt number first: the status is the parameter
// its returns say something of. It refuses after the third attempt.
func admitNth(attempt int, st status) bool { // want admitNth:"isPredicate true:0 false:! param:1"
	if attempt > 3 || st != statusOK {
		return false
	}
	return true
}

func handleAdmitNth(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a")
	if admitNth(1, st) {
		defer rel()
		return step()
	}
	if st == statusOK {
		rel()
	}
	return errors.New("refused")
}
