package missedleaks4

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// acquireFallback returns another helper's results while its own named
// result still holds a guard.
func acquireFallback(ctx context.Context, l slots.Limiter, user string) (rel func(), st status) { // want acquireFallback:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	rel, st = acquireUserSlot(ctx, l, user) // want `the release function returned by acquireUserSlot is not used on all paths`
	if st == statusOK && !healthy(user) {
		return acquireUserSlot(ctx, l, "fallback") // want `this return statement may be reached without using the release function rel defined on line 12`
	}
	return
}

// acquireTwice overwrites its named result with a second guard before the
// first is used.
func acquireTwice(ctx context.Context, l slots.Limiter) (rel func(), st status) { // want acquireTwice:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	rel, st = acquireUserSlot(ctx, l, "u") // want `the release function returned by acquireUserSlot is not used on all paths`
	if st != statusOK {
		return
	}
	rel, st = acquireUserSlot(ctx, l, "u2") // want `this statement overwrites the release function rel defined on line 22 before it is used`
	return
}

// acquireHealthy skips an unhealthy account's granted slot with a
// continue: the next round overwrites it.
func acquireHealthy(ctx context.Context, l slots.Limiter, accts []string) (rel func(), st status) { // want acquireHealthy:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	st = statusFull
	for _, a := range accts {
		rel, st = acquireUserSlot(ctx, l, a) // want `the release function returned by acquireUserSlot is not used on all paths`
		if st != statusOK {
			continue
		}
		if !healthy(a) {
			continue // want `this continue statement may lead to line 35, which overwrites the release function rel defined on line 35 before it is used`
		}
		return
	}
	return nil, st
}

// inLiteral holds the guard in a named result of a function literal.
func inLiteral(ctx context.Context, l slots.Limiter) error {
	try := func() (rel func(), err error) {
		_, rel, err = l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
		if err != nil {
			return nil, err
		}
		if err = step(); err != nil {
			return nil, err // want `this return statement may be reached without using the release function rel defined on line 50`
		}
		return
	}
	rel, err := try()
	if err != nil {
		return err
	}
	rel()
	return nil
}

// warmAll takes a slot of each key in a loop and releases only some: the
// next round declares a new guard while the last one is held.
func warmAll(ctx context.Context, l slots.Limiter, keys []string) error {
	for _, k := range keys {
		_, rel, err := l.TryAcquire(ctx, k, 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths` `the loop comes back to this statement, which declares a new release function rel before the one it declared is used`
		if err != nil {
			return err
		}
		if healthy(k) {
			rel()
		}
	}
	return nil // want `this return statement may be reached without using the release function rel defined on line 71`
}

// warmAllVar is warmAll with the guard declared by var: the next round
// declares a new one all the same.
func warmAllVar(ctx context.Context, l slots.Limiter, keys []string) error {
	for _, k := range keys {
		var _, rel, err = l.TryAcquire(ctx, k, 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths` `the loop comes back to this statement, which declares a new release function rel before the one it declared is used`
		if err != nil {
			return err
		}
		if healthy(k) {
			rel()
		}
	}
	return nil // want `this return statement may be reached without using the release function rel defined on line 86`
}
