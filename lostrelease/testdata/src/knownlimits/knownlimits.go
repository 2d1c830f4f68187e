// Package knownlimits holds correct code that the analyzer still reports,
// each a limit listed in doc.go: a status that a recovering defer sets
// beside a nil guard, a Go map from status to code, a generic predicate;
// and a leak it does not report, a guard assigned in a function literal.
// Each report here is wanted, so that a change that lifts a limit shows.
package knownlimits

import (
	"context"
	"errors"
	"net/http"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

func statusOf(err error) status { // want statusOf:"isPredicate maps:1=!nil,2=!$"
	if errors.Is(err, slots.ErrFull) {
		return statusFull
	}
	return statusBackend
}

func step() error { return nil }

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}

// acquireRecovering frees its slot and returns nil and statusBackend if
// the work after the call panics. The deferred closure assigns st, so
// nothing is known of st, though the closure only pairs it with a nil
// guard.
func acquireRecovering(ctx context.Context, l slots.Limiter, account string) (rel func(), st status) { // want acquireRecovering:"returnsGuard\\[0\\]$"
	defer func() {
		if r := recover(); r != nil {
			if rel != nil {
				rel()
			}
			rel, st = nil, statusBackend
		}
	}()
	var err error
	_, rel, err = l.TryAcquire(ctx, account, 4)
	if err != nil {
		st = statusOf(err)
		return
	}
	_ = step()
	return
}

func handleRecovering(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireRecovering(ctx, l, "a") // want `not used on all paths`
	if st != statusOK {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// httpCodes maps a status to its answer with a Go map, not a function.
var httpCodes = map[status]int{
	statusOK:      http.StatusOK,
	statusFull:    http.StatusTooManyRequests,
	statusBackend: http.StatusBadGateway,
}

func handleCodeMap(w http.ResponseWriter, r *http.Request, l slots.Limiter) {
	rel, st := acquireAccountSlot(r.Context(), l, "a") // want `not used on all paths`
	if httpCodes[st] != http.StatusOK {
		http.Error(w, "refused", httpCodes[st])
		return // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	_ = step()
}

// granted is generic over the status type: no fact.
func granted[S ~int](s S) bool { return s == 0 }

func handleGeneric(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireAccountSlot(ctx, l, "a") // want `not used on all paths`
	if !granted(st) {
		return errors.New("refused") // want `this return statement may be reached without using the release function rel`
	}
	defer rel()
	return step()
}

// acquireRetry tries three times through a closure that assigns the
// guard; when a try succeeds it leaves its status at statusFull, so a
// caller that checks the status drops a granted slot. A guard assigned in
// a function literal is taken as stored outside the function: the helper
// has no fact, and its callers are not checked. A leak not reported.
func acquireRetry(ctx context.Context, l slots.Limiter) (func(), status) {
	var rel func()
	st := statusFull
	try := func() bool {
		var err error
		_, rel, err = l.TryAcquire(ctx, "a", 1)
		return err == nil
	}
	for range 3 {
		if try() {
			break
		}
	}
	return rel, st
}

func acquireRetryCaller(ctx context.Context, l slots.Limiter) error {
	rel, st := acquireRetry(ctx, l)
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel()
	return step()
}
