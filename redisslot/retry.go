package redisslot

import (
	"math/rand/v2"
	"time"
)

// A retryTimer is the oldest local waiter's timer for trying on its own,
// since a wake-up can be lost (pub/sub does not queue, and a lease that
// ends frees a slot silently). It is used by one goroutine.
type retryTimer struct {
	t     *time.Timer
	armed bool
}

// arm starts the timer, if it is not running, for a random time in the
// upper half of interval, and returns that time (0 if it was running).
func (r *retryTimer) arm(interval time.Duration) time.Duration {
	if r.armed {
		return 0
	}
	d := retryDelay(interval)
	if r.t == nil {
		r.t = time.NewTimer(d)
	} else {
		r.t.Reset(d)
	}
	r.armed = true
	return d
}

// disarm forgets the running timer: its next fire is not waited for.
func (r *retryTimer) disarm() { r.armed = false }

// c returns the timer's channel while it is armed, else nil.
func (r *retryTimer) c() <-chan time.Time {
	if !r.armed {
		return nil
	}
	return r.t.C
}

func (r *retryTimer) stop() {
	if r.t != nil {
		r.t.Stop()
	}
}

// retryDelay returns a random time in the upper half of interval.
func retryDelay(interval time.Duration) time.Duration {
	return interval/2 + rand.N(interval/2+1)
}
