package redisslot_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A lateDial sends a client's connections through a proxy once viaProxy is
// set: its first connection, its pool's, goes straight to Redis, and every
// later one, its pub/sub connection among them, through the proxy, which
// can then hold them (a partition). dialing hears each dial through it.
type lateDial struct {
	viaProxy atomic.Bool
	dialing  chan struct{} // buffered 1
}

// lateDialClient returns a client of srv whose reads and writes time out
// after timeout, and whose connections dialled once ld.viaProxy is set go
// through p. It is closed when the test ends.
func lateDialClient(t testing.TB, srv *redistest.Server, p *redistest.Proxy, timeout time.Duration) (*redis.Client, *lateDial) {
	ld := &lateDial{dialing: make(chan struct{}, 1)}
	opts := srv.Options()
	opts.ReadTimeout, opts.WriteTimeout = timeout, timeout
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ld.viaProxy.Load() {
			sendOrDrop(ld.dialing, struct{}{})
			addr = p.Addr
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client, ld
}
