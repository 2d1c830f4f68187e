package redisslot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A round asked of a Limiter that holds nothing (its renewer stopped) has
// no slot to look at: it is dropped, not run when the Limiter next takes a
// slot, where it would cost a call the slot does not need. Here a takes and
// releases its first slot, the round of its canary's first confirmation
// past, and its renewer stops; a restart message from another instance
// reaches a; then a takes a slot, and must run no round for the next
// round interval's first ten periods of 20ms.
func TestRoundAskedOfAnIdleLimiterIsNotRunAtItsNextSlot(t *testing.T) {
	srv := redistest.Start(t) // a server of its own: the canary's channel is every Prefix's
	a := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	warmUp(t, a.l)
	eventually(t, "a's renewer stops", func() bool { return !redisslot.RenewerRunning(a.l) })
	asked, rounds := redisslot.RoundsAsked(a.l), a.l.Stats().RenewalRounds
	if err := srv.Client(t).Publish(ctx, redisslot.CanaryChannel(a.l), "another instance").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a hears the restart message", func() bool { return redisslot.RoundsAsked(a.l) > asked })

	_, rel := mustTry(t, a.l, ctx, "k", 1)
	defer rel()
	quietFor(t, 10, 20*time.Millisecond, func() string {
		if n := a.l.Stats().RenewalRounds; n != rounds {
			return fmt.Sprintf("a ran %d rounds after its next slot, for a restart message heard while it held nothing; want none before Lease/3 (%v)", n-rounds, redisslot.RenewEvery(a.l))
		}
		return ""
	})
}
