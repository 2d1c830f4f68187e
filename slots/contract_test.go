package slots_test

import (
	"testing"

	"github.com/ctxguard/release/slots"
	"github.com/ctxguard/release/slots/slotstest"
)

// TestLocalContract runs the contract suite against Local: the n Limiters
// that share their slots are one Local, n times.
func TestLocalContract(t *testing.T) {
	slotstest.RunWithOptions(t, func(t *testing.T, n int, opts slotstest.Options) []slots.Limiter {
		l := slots.NewLocal(slots.LocalOptions{MaxWaiters: opts.MaxWaiters, MaxWaitersFor: opts.MaxWaitersFor})
		t.Cleanup(func() { l.Close() })
		ls := make([]slots.Limiter, n)
		for i := range ls {
			ls[i] = l
		}
		return ls
	})
}
