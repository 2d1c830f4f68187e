package knownlimits2

import (
	"context"
	"log"
	"net/http"

	"github.com/ctxguard/release/slots"

	"predicates"
)

func logRefused() { log.Print("refused") }

// Reported (a helper's no-op release, returned on a refusal instead of
// nil, is a guard unless it is an empty function literal or an empty
// function of the helper's package): each helper below returns, on a
// refusal, a function that holds nothing, and its caller drops it there.

func acquireOrLogLit(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireOrLogLit:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return func() { log.Print("refused") }, statusFull
	}
	return rel, statusOK
}

func acquireOrLogFunc(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireOrLogFunc:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return logRefused, statusFull
	}
	return rel, statusOK
}

func acquireOrNoop(ctx context.Context, l slots.Limiter) (func(), status) { // want acquireOrNoop:"returnsGuard\\[0\\] 0:\\{1=0\\|1\\}$"
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return predicates.Noop, statusFull
	}
	return rel, statusOK
}

func serveNoops(ctx context.Context, l slots.Limiter) int {
	rel, st := acquireOrLogLit(ctx, l) // want `the release function returned by acquireOrLogLit is not used on all paths`
	if st != statusOK {
		return http.StatusTooManyRequests // want `this return statement may be reached without using the release function rel defined on line 45`
	}
	rel()
	rel, st = acquireOrLogFunc(ctx, l) // want `the release function returned by acquireOrLogFunc is not used on all paths`
	if st != statusOK {
		return http.StatusTooManyRequests // want `this return statement may be reached without using the release function rel defined on line 50`
	}
	rel()
	rel, st = acquireOrNoop(ctx, l) // want `the release function returned by acquireOrNoop is not used on all paths`
	if st != statusOK {
		return http.StatusTooManyRequests // want `this return statement may be reached without using the release function rel defined on line 55`
	}
	rel()
	return http.StatusOK
}
