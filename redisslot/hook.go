package redisslot

import "time"

// A Hook observes a Limiter (add one with [Limiter.AddHook]; redisslototel
// is built on it). Every field is optional: a nil field is skipped. The
// functions are called synchronously on the goroutine that did the work
// (the caller of TryAcquire, Acquire or release, the renewer, Close), with
// none of the Limiter's locks held, concurrently from many goroutines. A
// hook must be safe for concurrent use, and must not block nor panic: the
// call it observes waits for it. It may call [Limiter.Stats], but not Close.
//
// The key in each event is the key as the caller named it, without the
// Prefix. Keys are often unbounded (a user id); a hook that turns events
// into metrics should map them to a bounded class.
type Hook struct {
	// AcquireEnded is called once per TryAcquire or Acquire call, when it
	// returns, whatever the outcome: not once per try inside an Acquire. A
	// call that panics (an Options callback did) is heard as AcquireError.
	AcquireEnded func(AcquireEvent)

	// SlotEnded is called once per slot that an acquiring call returned,
	// when the Limiter stops holding it.
	SlotEnded func(SlotEvent)

	// LeaseLost is called once per slot whose lease was lost, just before
	// its SlotEnded, which tells SlotLeaseLost unless the slot's context
	// had already ended another way: always the cause the holder reads.
	LeaseLost func(LeaseLostEvent)

	// WaiterJoined is called when an Acquire call starts to wait for key on
	// this Limiter, and WaiterLeft, once for each WaiterJoined, when it
	// stops, whatever the reason, before the call's AcquireEnded.
	WaiterJoined func(key string)
	WaiterLeft   func(key string)

	// RenewalRound is called after each renewal round that sent renewals
	// (not after one that sent only frees or fallback slots' adoptions).
	RenewalRound func(RenewalEvent)
}

// AcquireResult says how a TryAcquire or Acquire call ended.
type AcquireResult uint8

const (
	AcquireAcquired  AcquireResult = iota // the call returned a slot
	AcquireFull                           // it returned ErrFull (and not ErrQueueFull)
	AcquireQueueFull                      // it returned ErrQueueFull
	AcquireCanceled                       // its ctx was done (for any cause) before it got a slot
	AcquireClosed                         // it returned ErrClosed
	AcquireError                          // any other error, such as a Redis error or a bad argument
	AcquireFallback                       // a slot from the fallback share (see Options.Fallback)
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

// SlotEnd says how a held slot ended: what the cause of its context told
// the holder (see [Limiter.TryAcquire]).
type SlotEnd uint8

const (
	SlotReleased  SlotEnd = iota // the caller's release freed it
	SlotCanceled                 // its acquiring ctx ended (a client hung up, a deadline)
	SlotLeaseLost                // its lease was lost (cause ErrLeaseLost)
	SlotClosed                   // Close took it back (cause ErrClosed)
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
	Calls    int           // script calls sent, in one pipeline (on a Redis Cluster, one per master)
	Duration time.Duration // from the round's start to the replies
	Failures int           // calls that failed; not those cut short by Close
}
