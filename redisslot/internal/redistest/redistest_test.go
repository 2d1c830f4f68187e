package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot/internal/redistest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(redistest.WithShared(m))
}

// hangGuard bounds every wait, so that a broken helper fails rather than
// hangs.
const hangGuard = 30 * time.Second

func TestServerStopsAndRestartsEmptyOnTheSameAddress(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
	addr := srv.Addr
	if err := srv.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if srv.Addr != addr {
		t.Errorf("address %s after Restart; want %s", srv.Addr, addr)
	}
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k after Restart = %d, %v; want 0: nothing persisted", n, err)
	}
}

func TestSharedServerAnswersOnLoopback(t *testing.T) {
	srv := redistest.Shared(t)
	if host := srv.Addr[:len("127.0.0.1:")]; host != "127.0.0.1:" {
		t.Errorf("server on %s; want 127.0.0.1", srv.Addr)
	}
	if err := srv.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Errorf("PING: %v", err)
	}
}

func TestCounterCountsCommandsAndRoundTrips(t *testing.T) {
	srv := redistest.Shared(t)
	c := srv.Client(t)
	var n redistest.Counter
	c.AddHook(&n)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil { // dials, and sends the connection's setup commands
		t.Fatal(err)
	}
	n.Reset()
	_ = c.Ping(ctx).Err()
	pipe := c.Pipeline()
	pipe.Ping(ctx)
	pipe.Echo(ctx, "x")
	_, _ = pipe.Exec(ctx)
	if got := n.RoundTrips(); got != 2 {
		t.Errorf("RoundTrips = %d; want 2", got)
	}
	if got := n.Commands(); got != 3 {
		t.Errorf("Commands = %d; want 3", got)
	}
	if got := n.ByName("ping"); got != 2 {
		t.Errorf("ByName(ping) = %d; want 2", got)
	}
	n.Reset()
	if n.Commands() != 0 || n.RoundTrips() != 0 || n.ByName("ping") != 0 {
		t.Errorf("counts not zero after Reset")
	}
}

// A replica made by ReplicaOf has the master's data once it returns, and
// refuses writes.
func TestReplicaOfReturnsOnceTheReplicaHasTheMastersData(t *testing.T) {
	master, replica := redistest.Start(t), redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := master.Client(t).Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on the master: %v", err)
	}
	replica.ReplicaOf(t, master, master.Addr)
	c := replica.Client(t)
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Errorf("GET k on the replica = %q, %v; want \"v\"", got, err)
	}
	if err := c.Set(ctx, "k", "w", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "READONLY") {
		t.Errorf("SET on the replica: %v; want a READONLY error", err)
	}
}
