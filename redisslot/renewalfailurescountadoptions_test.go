package redisslot_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// Stats.RenewalFailures is "the renewal calls that failed". A round that
// also writes fallback slots into Redis (adopt calls) adds its failed adopt
// calls to it (and to its RenewalEvent's Failures, beside Calls, which
// counts renewal calls only), though no renewal failed: here every renewal
// call of a held slot succeeds while Redis refuses the adoption of a
// fallback slot each round, and Stats counts a failed renewal per round.
// Only the acquire that meets the outage fails as unreachable, so no
// renewal call can fail. An operator alerting on renewal failures (leases
// at risk) is paged for a slot that is not even renewed.
func TestRenewalFailuresCountOnlyRenewalCalls(t *testing.T) {
	srv := redistest.Shared(t)
	f := newFixture(t, srv, redisslot.Options{Lease: testLease, Fallback: func(string, int) int { return 1 }})
	var cut, refuseAdopt atomic.Bool
	var adoptsRefused atomic.Int64
	f.client.AddHook(scriptHook{any: true, fn: func(ctx context.Context, cmds []redis.Cmder, next func() error) error {
		if cut.Load() && scriptOf(cmds[0]) == redisslot.AcquireHash { // Redis cannot be reached
			return failWith(cmds, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
		}
		if refuseAdopt.Load() && scriptOf(cmds[0]) == redisslot.AdoptHash && len(cmds) == 1 {
			adoptsRefused.Add(1)
			return failWith(cmds, errors.New("test: adopt refused"))
		}
		if refuseAdopt.Load() {
			err := next()
			for _, cmd := range cmds {
				if scriptOf(cmd) == redisslot.AdoptHash {
					adoptsRefused.Add(1)
					cmd.SetErr(errors.New("test: adopt refused"))
				}
			}
			return err
		}
		return next()
	}})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "renewed", 1) // its renewals all succeed
	defer rel()

	cut.Store(true)
	refuseAdopt.Store(true)
	_, fbRel, err := f.l.TryAcquire(ctx, "fallback", 2)
	if err != nil {
		t.Fatalf("TryAcquire with Redis unreachable and a fallback share = %v; want a slot from the share", err)
	}
	defer fbRel()
	cut.Store(false)
	eventually(t, "two adopt calls refused", func() bool { return adoptsRefused.Load() >= 2 })

	if st := f.l.Stats(); st.RenewalFailures != 0 {
		t.Errorf("Stats().RenewalFailures = %d after rounds whose renewal calls all succeeded (adopt calls refused: %d); want 0",
			st.RenewalFailures, adoptsRefused.Load())
	}
}
