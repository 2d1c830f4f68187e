package redistest_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// While frozen, a client of the proxy times out and its command is held,
// not lost: it runs when the proxy thaws. A client of the server itself
// goes on meanwhile.
func TestProxyFreezeHoldsCommandsUntilThaw(t *testing.T) {
	srv := redistest.Start(t)
	direct := srv.Client(t)
	p := redistest.NewProxy(t, srv.Addr)
	opts := srv.Options()
	opts.Addr = p.Addr
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries = -1
	via := redis.NewClient(opts)
	t.Cleanup(func() { _ = via.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := via.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING through the proxy: %v", err)
	}

	p.Freeze()
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	err := via.Incr(short, "held").Err()
	cancelShort()
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("INCR through a frozen proxy: %v; want a timeout", err)
	}
	if err := direct.Set(ctx, "direct", "1", 0).Err(); err != nil {
		t.Fatalf("SET on the server while the proxy is frozen: %v", err)
	}
	if n, _ := direct.Exists(ctx, "held").Result(); n != 0 {
		t.Fatal("the INCR sent through the frozen proxy ran before the thaw")
	}
	p.Thaw()
	deadline := time.Now().Add(hangGuard)
	for direct.Get(ctx, "held").Val() != "1" {
		if time.Now().After(deadline) {
			t.Fatalf("the held INCR did not run within %v of the thaw", hangGuard)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := via.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING through the thawed proxy: %v", err)
	}
}
