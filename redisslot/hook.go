package redisslot

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Hook observes a Limiter: it is told how each acquiring call ended, how
// and after how long each slot ended, of each lost lease, of each waiter
// that joins or leaves a key's queue, and of each renewal round. Add one to
// a Limiter with [Limiter.AddHook]; a metrics adapter such as
// redisslototel is built on it.
//
// Every field is optional: a nil field is skipped. The functions are called
// synchronously on the goroutine that did the work (the caller of
// TryAcquire, Acquire or release, the renewer, Close), after it has
// released the Limiter's locks, concurrently from many goroutines. A hook
// must therefore be safe for concurrent use, and it must not block and must
// not panic: while it runs, the call it observes waits for it. It may call
// [Limiter.Stats], but not Close.
//
// The key in each event is the key as the caller named it, without the
// Prefix. Keys are often unbounded (a user id); a hook that turns events
// into metrics should map them to a bounded class.
type Hook struct {
	// AcquireEnded is called once per TryAcquire or Acquire call, when it
	// returns, whatever the outcome: not once per try inside an Acquire.
	AcquireEnded func(AcquireEvent)

	// SlotEnded is called once per slot that an acquiring call returned,
	// when the Limiter stops holding it.
	SlotEnded func(SlotEvent)

	// LeaseLost is called once per slot whose lease was lost, just before
	// SlotEnded is called for it. That SlotEnded tells SlotLeaseLost unless
	// the slot's context had already ended another way (its ctx ended, say,
	// before the renewer found the loss): the end is always the cause the
	// holder reads.
	LeaseLost func(LeaseLostEvent)

	// WaiterJoined is called when an Acquire call starts to wait for key on
	// this Limiter, and WaiterLeft when it stops waiting, whatever the
	// reason; WaiterLeft is called once for each WaiterJoined, before the
	// AcquireEnded of the same call.
	WaiterJoined func(key string)
	WaiterLeft   func(key string)

	// RenewalRound is called after each renewal round that sent calls to
	// Redis.
	RenewalRound func(RenewalEvent)
}

// AcquireResult says how a TryAcquire or Acquire call ended.
type AcquireResult uint8

// The results of an acquiring call.
const (
	// AcquireAcquired: the call returned a slot.
	AcquireAcquired AcquireResult = iota
	// AcquireFull: the call returned ErrFull (and not ErrQueueFull).
	AcquireFull
	// AcquireQueueFull: the call returned ErrQueueFull.
	AcquireQueueFull
	// AcquireCanceled: the call's ctx was done (for any cause) before it
	// got a slot.
	AcquireCanceled
	// AcquireClosed: the call returned ErrClosed.
	AcquireClosed
	// AcquireError: any other error, such as a Redis error or a bad
	// argument.
	AcquireError
)

var acquireResultNames = [...]string{"acquired", "full", "queue_full", "canceled", "closed", "error"}

// String returns the result's name, as metrics label it: "acquired",
// "full", "queue_full", "canceled", "closed" or "error".
func (r AcquireResult) String() string {
	if int(r) < len(acquireResultNames) {
		return acquireResultNames[r]
	}
	return "unknown"
}

// SlotEnd says how a held slot ended.
type SlotEnd uint8

// The ways a slot ends. They are read from the cause of the slot's context
// (see [TryAcquire]), so a hook hears what the holder saw.
const (
	// SlotReleased: the caller's release freed it.
	SlotReleased SlotEnd = iota
	// SlotCanceled: the ctx the slot was acquired with ended (a client
	// that hung up, a deadline).
	SlotCanceled
	// SlotLeaseLost: its lease was lost (cause ErrLeaseLost).
	SlotLeaseLost
	// SlotClosed: Close took it back (cause ErrClosed).
	SlotClosed
)

var slotEndNames = [...]string{"released", "canceled", "lease_lost", "closed"}

// String returns the end's name, as metrics label it: "released",
// "canceled", "lease_lost" or "closed".
func (e SlotEnd) String() string {
	if int(e) < len(slotEndNames) {
		return slotEndNames[e]
	}
	return "unknown"
}

// An AcquireEvent describes one TryAcquire or Acquire call that returned.
type AcquireEvent struct {
	Key      string        // the key the call asked for, as the caller gave it
	Result   AcquireResult // how the call ended
	Duration time.Duration // from the call's start to its return, waiting included
	Err      error         // what the call returned
}

// A SlotEvent describes one slot that ended.
type SlotEvent struct {
	Key  string        // the slot's key, as the caller gave it
	End  SlotEnd       // what ended the slot first
	Held time.Duration // from when its acquire was sent to its end
}

// A LeaseLostEvent describes one slot whose lease was lost: its member
// vanished from Redis, or no renewal was confirmed for a whole Lease.
type LeaseLostEvent struct {
	Key string // the slot's key, as the caller gave it
}

// A RenewalEvent describes one renewal round.
type RenewalEvent struct {
	Keys     int           // distinct keys renewed
	Calls    int           // script calls sent, in one pipeline
	Duration time.Duration // from the round's start to the replies
	Failures int           // calls that failed; not those cut short by Close
}

// slotObs is what a slot keeps for its SlotEvent.
type slotObs struct {
	ctx    context.Context // the slot's context, whose cause tells its end
	parent context.Context // the acquiring ctx
	taken  time.Time       // when its acquire was sent
}

// observer is the Limiter's hooks and counters.
type observer struct {
	addMu sync.Mutex             // serializes AddHook
	hooks atomic.Pointer[[]Hook] // nil until the first AddHook; never mutated
	stats counters               // stats.go
}

// AddHook adds h to l's hooks. It may be called at any time, from any
// goroutine, and takes effect for events that happen after it returns;
// hooks cannot be removed. A hook added while l holds slots or has
// waiters hears of their ends but not of their starts, so add hooks right
// after New when the hook counts slots or waiters (as redisslototel does).
//
// With no hook added, an event costs l one atomic load, beside the atomic
// add of its Stats counter, and allocates nothing.
func (l *Limiter) AddHook(h Hook) {
	l.obs.addMu.Lock()
	defer l.obs.addMu.Unlock()
	var hs []Hook
	if old := l.obs.hooks.Load(); old != nil {
		hs = append(hs, *old...)
	}
	hs = append(hs, h)
	l.obs.hooks.Store(&hs)
}

// hookList returns l's hooks, nil when there are none.
func (l *Limiter) hookList() []Hook {
	if hs := l.obs.hooks.Load(); hs != nil {
		return *hs
	}
	return nil
}

// acquireEnded records the end of a TryAcquire or Acquire call that
// started at start, called with ctx, and is returning *errp. It is
// deferred by those calls.
func (l *Limiter) acquireEnded(ctx context.Context, key string, start time.Time, errp *error) {
	err := *errp
	r := acquireResult(ctx, err)
	l.obs.stats.acquireEnded(r)
	hs := l.hookList()
	if hs == nil {
		return
	}
	ev := AcquireEvent{Key: key, Result: r, Duration: time.Since(start), Err: err}
	for i := range hs {
		if f := hs[i].AcquireEnded; f != nil {
			f(ev)
		}
	}
}

// acquireResult classifies what an acquiring call with ctx returned.
func acquireResult(ctx context.Context, err error) AcquireResult {
	switch {
	case err == nil:
		return AcquireAcquired
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

// slotEnded records the end of s. It is called exactly once per slot, by
// whoever stopped holding it (dropped it from l.held), after s's context
// is done and with no lock held.
func (l *Limiter) slotEnded(s *slot) {
	l.obs.stats.slotEnded()
	hs := l.hookList()
	if hs == nil {
		return
	}
	ev := SlotEvent{Key: s.key, End: slotEnd(s), Held: time.Since(s.obs.taken)}
	for i := range hs {
		if f := hs[i].SlotEnded; f != nil {
			f(ev)
		}
	}
}

// slotEnd decides how s ended, from its context's cause: ErrLeaseLost and
// ErrClosed name themselves; the cause of the acquiring ctx, when that ctx
// is done, means it ended the slot; anything else is the caller's release
// (cause context.Canceled).
func slotEnd(s *slot) SlotEnd {
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

// leaseLost records that s lost its lease, then its end. The caller has
// dropped s and cancelled its context with ErrLeaseLost.
func (l *Limiter) leaseLost(s *slot) {
	l.obs.stats.leasesLost.Add(1)
	for _, h := range l.hookList() {
		if f := h.LeaseLost; f != nil {
			f(LeaseLostEvent{Key: s.key})
		}
	}
	l.slotEnded(s)
}

// waiterJoined records that an Acquire call started to wait for key.
func (l *Limiter) waiterJoined(key string) {
	l.obs.stats.waiting.Add(1)
	for _, h := range l.hookList() {
		if f := h.WaiterJoined; f != nil {
			f(key)
		}
	}
}

// waiterLeft records that an Acquire call stopped waiting for key.
func (l *Limiter) waiterLeft(key string) {
	l.obs.stats.waiting.Add(-1)
	for _, h := range l.hookList() {
		if f := h.WaiterLeft; f != nil {
			f(key)
		}
	}
}

// renewObs is what a renewal round tells the hooks, kept until the round
// has unlocked renewMu.
type renewObs struct {
	calls []call
	start time.Time
	cmds  []*redis.Cmd // a reply per call
	lost  []*slot      // dropped, their contexts cancelled with ErrLeaseLost
}

// renewEnded records the lost leases and the round that o describes. A
// round that sent nothing is not recorded.
func (l *Limiter) renewEnded(o *renewObs) {
	for _, s := range o.lost {
		l.leaseLost(s)
	}
	if len(o.calls) == 0 {
		return
	}
	failures := 0
	for _, c := range o.cmds {
		if c.Err() != nil {
			failures++
		}
	}
	l.renewalRound(o.calls, o.start, failures)
}

// renewalRound records a renewal round that started at start and sent
// calls, of which failures failed. Failures of calls cut short by Close
// do not count.
func (l *Limiter) renewalRound(calls []call, start time.Time, failures int) {
	if l.bg.Err() != nil {
		failures = 0
	}
	l.obs.stats.renewalRounds.Add(1)
	l.obs.stats.renewalFailures.Add(uint64(failures))
	hs := l.hookList()
	if hs == nil {
		return
	}
	ev := RenewalEvent{Calls: len(calls), Duration: time.Since(start), Failures: failures}
	keys := make(map[string]bool) // a key with many slots spans calls
	for _, c := range calls {
		for _, k := range c.keys {
			keys[k] = true
		}
	}
	ev.Keys = len(keys)
	for i := range hs {
		if f := hs[i].RenewalRound; f != nil {
			f(ev)
		}
	}
}
