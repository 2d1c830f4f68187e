package redisslot_test

import (
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// One emptied script cache (a restart, a failover, SCRIPT FLUSH) is one
// event: every other Limiter with the Prefix runs a round on each restart
// message it hears, so the Limiter that found the cache emptied tells them
// once, not once for each of its scripts that it finds gone in turn.
func TestOneEmptiedScriptCacheSendsOneRestartMessage(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	_, rel := mustTry(t, f.l, ctx, "held", 1)
	defer rel()
	redisslot.RenewNow(f.l)
	raw := srv.Client(t)
	sub := raw.Subscribe(ctx, redisslot.CanaryChannel(f.l))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	if err := raw.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, rel2 := mustTry(t, f.l, ctx, "k", 1) // finds the acquire script gone
	defer rel2()
	redisslot.RenewNow(f.l)
	if _, err := f.l.InUse(ctx, "k"); err != nil { // finds the InUse script gone
		t.Fatal(err)
	}
	redisslot.RenewNow(f.l)
	if _, err := f.l.Load(ctx, "k"); err != nil { // finds the Load script gone
		t.Fatal(err)
	}
	redisslot.RenewNow(f.l)
	// A round publishes in the background: once none is in flight, Redis
	// has every message sent so far, and delivers them before this last one.
	eventually(t, "no restart message in flight", func() bool { return redisslot.TellerIdle(f.l) })
	const last = "end of test"
	if err := raw.Publish(ctx, redisslot.CanaryChannel(f.l), last).Err(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		m, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("restart messages: %v", err)
		}
		if m.Payload == last {
			break
		}
		t.Logf("restart message from %s", m.Payload)
		n++
	}
	if n != 1 {
		t.Errorf("%d restart messages after one SCRIPT FLUSH; want 1", n)
	}
}
