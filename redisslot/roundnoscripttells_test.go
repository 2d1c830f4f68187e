package redisslot_test

import (
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A renewal round is a call too: the first to find Redis's script cache
// emptied tells the other Limiters on the restart canary's channel, as an
// acquire that finds it so does, so that they look for the slots the
// restart lost at once, not at their next round.
func TestRoundThatFindsTheScriptsGoneTellsTheOthers(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "held", 1)
	defer rel()
	redisslot.RenewNow(f.l)
	msgs := canaryListener(t, ctx, srv, f.l)
	raw := srv.Client(t)
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	redisslot.RenewNow(f.l) // answered NOSCRIPT, and sent again
	m := recv(t, msgs, waitAtOnce, "a restart message after the round answered NOSCRIPT")
	t.Logf("restart message from %s", m.Payload)
}
