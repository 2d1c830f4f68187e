package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ctxguard/release/slots"
)

// reasonHeader tells the client why a request was refused: the kind of
// slot and the status, as "account full".
const reasonHeader = "X-Gateway-Refused"

// limits are the slots a user and an account may hold at once, and how
// long a request waits for its user's slot.
type limits struct {
	user, account int
	userWait      time.Duration
}

// streamSpec is the response a served request gets: chunks lines, one
// every interval.
type streamSpec struct {
	chunks int
	every  time.Duration
}

// gatewayStats are what a gateway instance counts for the summary.
type gatewayStats struct {
	// freedByHangUp counts the slots of streams cut because the client
	// hung up: their guards freed them as the request's context ended.
	freedByHangUp atomic.Int64
}

// A gateway is one instance of the example service: every request takes a
// slot of its user (waiting in line, for a while) and then one of its
// account (without waiting), and streams for a while.
type gateway struct {
	limiter slots.Limiter
	limits  limits
	stream  streamSpec
	tracker *tracker
	stats   *gatewayStats
}

// ServeHTTP serves /stream?user=U&account=A.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	user, account := r.URL.Query().Get("user"), r.URL.Query().Get("account")
	if user == "" || account == "" {
		http.Error(w, "want ?user=U&account=A", http.StatusBadRequest)
		return
	}
	ctx, releaseUser, st := g.acquireUserSlot(r.Context(), user)
	if st != statusOK {
		refuse(w, "user", st)
		return
	}
	defer releaseUser()
	ctx, releaseAccount, st := g.acquireAccountSlot(ctx, account)
	if st != statusOK {
		refuse(w, "account", st)
		return
	}
	defer releaseAccount()
	if g.serve(ctx, w) && r.Context().Err() != nil {
		// The client hung up: the guards freed both slots as the request's
		// context ended; the deferred releases find them freed.
		g.stats.freedByHangUp.Add(2)
	}
}

// refuse answers a request that did not get its slot of kind.
func refuse(w http.ResponseWriter, kind string, st status) {
	if st == statusGone {
		return // nobody to answer
	}
	w.Header().Set(reasonHeader, kind+" "+st.String())
	if st.httpCode() == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, kind+" "+st.String(), st.httpCode())
}

// serve streams the response while ctx, the slots' context, lasts. It
// reports whether ctx ended before the stream did.
func (g *gateway) serve(ctx context.Context, w http.ResponseWriter) (cut bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rc := http.NewResponseController(w)
	tick := time.NewTicker(g.stream.every)
	defer tick.Stop()
	for i := range g.stream.chunks {
		if _, err := fmt.Fprintf(w, "chunk %d of %d\n", i+1, g.stream.chunks); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
		if i == g.stream.chunks-1 {
			return false
		}
		select {
		case <-ctx.Done():
			return true
		case <-tick.C:
		}
	}
	return false
}
