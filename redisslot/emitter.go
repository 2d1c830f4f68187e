package redisslot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// An emitter is a Limiter's hooks and the counts behind its Stats. Hooks
// run on the goroutine that did the work, with no lock held; addMu
// serializes add, and the list of hooks is copied on write.
type emitter struct {
	addMu sync.Mutex
	hooks atomic.Pointer[[]Hook] // nil until the first hook
	stats counters
}

func (e *emitter) add(h Hook) {
	e.addMu.Lock()
	defer e.addMu.Unlock()
	hs := append(slices.Clone(e.list()), h)
	e.hooks.Store(&hs)
}

func (e *emitter) list() []Hook {
	if hs := e.hooks.Load(); hs != nil {
		return *hs
	}
	return nil
}

// runHooks calls, with ev, the function that field picks from each hook
// that sets it. Callers call it only when there are hooks.
func runHooks[E any](hs []Hook, field func(*Hook) func(E), ev E) {
	for i := range hs {
		if f := field(&hs[i]); f != nil {
			f(ev)
		}
	}
}

// acquireEnded hears an acquiring call end with err, or panic.
func (e *emitter) acquireEnded(ctx context.Context, key string, start time.Time, err error, shared, panicked bool) {
	if panicked {
		err = panickedFor(key)
	}
	r := acquireResult(ctx, err)
	if r == AcquireAcquired && shared {
		r = AcquireFallback
	}
	e.stats.acquireEnded(r)
	if hs := e.list(); hs != nil {
		ev := AcquireEvent{Key: key, Result: r, Duration: time.Since(start), Err: err}
		runHooks(hs, func(h *Hook) func(AcquireEvent) { return h.AcquireEnded }, ev)
	}
}

// acquireResult classifies what an acquiring call returned.
func acquireResult(ctx context.Context, err error) AcquireResult {
	switch {
	case err == nil:
		return AcquireAcquired
	case errors.Is(err, errPanicked):
		return AcquireError // whatever ctx says: the call did not end on it
	case errors.Is(err, ErrQueueFull):
		return AcquireQueueFull
	case errors.Is(err, ErrFull):
		return AcquireFull
	case errors.Is(err, ErrClosed):
		return AcquireClosed
	case ctx.Err() != nil:
		return AcquireCanceled
	}
	return AcquireError
}

// slotEnded records the end of s, once, after its context is done.
func (e *emitter) slotEnded(s *holding) {
	e.stats.slotEnded()
	if hs := e.list(); hs != nil {
		ev := SlotEvent{Key: s.ref.key, End: slotEnd(s), Held: time.Since(s.obs.taken)}
		runHooks(hs, func(h *Hook) func(SlotEvent) { return h.SlotEnded }, ev)
	}
}

// slotEnd reads how s ended from its context's cause (see SlotEnd).
func slotEnd(s *holding) SlotEnd {
	cause := context.Cause(s.obs.ctx)
	switch {
	case errors.Is(cause, ErrLeaseLost):
		return SlotLeaseLost
	case errors.Is(cause, ErrClosed):
		return SlotClosed
	case s.obs.parent.Err() != nil && cause == context.Cause(s.obs.parent):
		return SlotCanceled
	}
	return SlotReleased
}

// leaseLost records that s lost its lease, then its end.
func (e *emitter) leaseLost(s *holding) {
	e.stats.leasesLost.Add(1)
	if hs := e.list(); hs != nil {
		runHooks(hs, func(h *Hook) func(LeaseLostEvent) { return h.LeaseLost }, LeaseLostEvent{Key: s.ref.key})
	}
	e.slotEnded(s)
}

func (e *emitter) waiterJoined(key string) {
	e.stats.waiting.Add(1)
	if hs := e.list(); hs != nil {
		runHooks(hs, func(h *Hook) func(string) { return h.WaiterJoined }, key)
	}
}

func (e *emitter) waiterLeft(key string) {
	e.stats.waiting.Add(-1)
	if hs := e.list(); hs != nil {
		runHooks(hs, func(h *Hook) func(string) { return h.WaiterLeft }, key)
	}
}

// renewalRound records a round; calls that Close cut short are no failures.
func (e *emitter) renewalRound(renewals []renewal, start time.Time, failures int, closing bool) {
	if closing {
		failures = 0
	}
	e.stats.renewalRounds.Add(1)
	e.stats.renewalFailures.Add(uint64(failures))
	hs := e.list()
	if hs == nil {
		return
	}
	keys := make(map[string]bool) // a key with many slots spans calls
	for _, rc := range renewals {
		for _, k := range rc.call.keys {
			keys[k] = true
		}
	}
	ev := RenewalEvent{Keys: len(keys), Calls: len(renewals), Duration: time.Since(start), Failures: failures}
	runHooks(hs, func(h *Hook) func(RenewalEvent) { return h.RenewalRound }, ev)
}
