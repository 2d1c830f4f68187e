package redisslot

import "time"

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
	// AcquireFallback: the call returned a slot from the fallback share,
	// Redis being unreachable (see Options.Fallback).
	AcquireFallback
)

var acquireResultNames = [...]string{"acquired", "full", "queue_full", "canceled", "closed", "error", "fallback"}

// String returns the result's name, as metrics label it: "acquired",
// "full", "queue_full", "canceled", "closed", "error" or "fallback".
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
