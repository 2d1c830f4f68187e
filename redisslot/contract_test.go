package redisslot_test

import (
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/ctxguard/release/slots"
	"github.com/ctxguard/release/slots/slotstest"
)

// The contract of slots.Limiter, run against one redisslot Limiter and
// against two that share their slots, each on a client of its own, on a
// real redis-server.
func TestContract(t *testing.T) {
	for _, tc := range []struct {
		name      string
		instances int
	}{
		{"one Limiter", 1},
		{"two Limiters", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slotstest.RunWithOptions(t, func(t *testing.T, n int, opts slotstest.Options) []slots.Limiter {
				srv := redistest.Shared(t)
				prefix := testPrefix(t)
				var ls []slots.Limiter
				for i := range n {
					if tc.instances == 1 && i > 0 {
						ls = append(ls, ls[0])
						continue
					}
					f := newFixture(t, srv, redisslot.Options{
						Prefix: prefix, Lease: testLease, MaxWaiters: opts.MaxWaiters, MaxWaitersFor: opts.MaxWaitersFor,
					})
					ls = append(ls, f.l)
				}
				return ls
			})
		})
	}
}
