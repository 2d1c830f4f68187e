package redisslot_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// A fallback slot's adoption is sent each round until Redis answers one,
// and a copy that timed out may still run later: so the package promises
// that the free of such a slot leaves a tombstone that refuses that copy.
// A fallback slot lost at its adoption (its key is no slot set: WRONGTYPE)
// is dropped with no free at all, and so no tombstone. Here a's first
// adoption of its fallback slot of k is held on its way (written, unsent,
// its call timed out); the next round's is refused WRONGTYPE and the holder
// is told ErrLeaseLost. The string at k's slot set then goes (deleted, or
// its TTL ends), and the first copy reaches Redis: it writes the member
// with a full lease. Nobody holds it, yet it counts against k's limit until
// its lease ends: callers are refused while the slot is free.
func TestFallbackSlotLostAtAdoptionLeavesNoGhost(t *testing.T) {
	p, direct, a, h, lostHeard := ghostRig(t)
	ctx := ctxWithTimeout(t)
	rkey := redisslot.SlotKey(a, "k")

	p.Freeze()
	sctx, rel, err := a.TryAcquire(ctx, "k", fbLimit)
	if err != nil {
		t.Fatalf("TryAcquire with Redis cut off = %v; want a slot from the share", err)
	}
	defer rel()
	if err := direct.Set(ctx, rkey, "not a slot set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	h.arm()
	p.Thaw()
	bound := 3*redisslot.RenewEvery(a) + 2*time.Second
	held := recv(t, h.held, bound, "a's first adoption of its fallback slot is written")
	t.Cleanup(held.discard)
	recv(t, sctx.Done(), bound, "the holder hears its slot is lost at a later adoption (WRONGTYPE)")
	if got := context.Cause(sctx); got != redisslot.ErrLeaseLost {
		t.Fatalf("the fallback slot ended with %v; want ErrLeaseLost", got)
	}
	recv(t, held.closed, waitAtOnce, "a's client closes the connection of the adoption that timed out")
	if err := direct.Del(ctx, rkey).Err(); err != nil { // the string at k's slot set goes
		t.Fatal(err)
	}
	// The loss is reported after its free is noted: then the free is confirmed.
	recv(t, lostHeard, bound, "a hears of the lost lease")
	eventually(t, "a's pending frees are confirmed", func() bool {
		return a.Stats().PendingFrees == 0 && redisslot.FreesInFlight(a) == 0
	})

	if err := held.deliver(); err != nil { // the first copy reaches Redis now
		t.Fatal(err)
	}
	if got := members(t, direct, rkey); len(got) > 0 {
		_, _, err := a.TryAcquire(ctx, "k", 1)
		t.Fatalf("after a's fallback slot of k was lost at its adoption, an earlier copy of that adoption wrote %v into k's slot set: a slot nobody holds, until its lease ends; TryAcquire(k, limit 1) with no holder = %v; want no member and a slot", got, err)
	}
}

// ghostRig starts a redis-server behind a proxy, and a Limiter a on a
// client through the proxy, with a fallback share, whose connections hold
// back the first adoption write once h is armed; lostHeard hears each
// lease a loses (after its free is noted).
func ghostRig(t *testing.T) (p *redistest.Proxy, direct *redis.Client, a *redisslot.Limiter, h *adoptHolder, lostHeard chan struct{}) {
	t.Helper()
	srv := redistest.Start(t)
	p = redistest.NewProxy(t, srv.Addr)
	ctx := ctxWithTimeout(t)
	direct = srv.Client(t)
	if err := redisslot.LoadScripts(ctx, direct); err != nil {
		t.Fatal(err)
	}
	if err := redisslot.LoadAdopt(ctx, direct); err != nil { // the copy held is an EVALSHA Redis can run
		t.Fatal(err)
	}
	h = &adoptHolder{match: []byte(redisslot.AdoptHash), held: make(chan *heldConn, 1)}
	opts := srv.Options()
	opts.Addr = p.Addr
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = fbTimeout, fbTimeout, fbTimeout, fbTimeout
	opts.MaxRetries = -1
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &heldConn{Conn: c, h: h, closed: make(chan struct{})}, nil
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	a = redisslot.New(client, redisslot.Options{
		Prefix: testPrefix(t), Lease: fbLease, OnError: (&errLog{}).add,
		Fallback: func(string, int) int { return fbShare },
	})
	t.Cleanup(func() { _ = a.Close() })
	lostHeard = make(chan struct{}, 1)
	a.AddHook(redisslot.Hook{LeaseLost: func(redisslot.LeaseLostEvent) { sendOrDrop(lostHeard, struct{}{}) }})
	return p, direct, a, h, lostHeard
}

// An adoptHolder keeps back, once armed, the first write that carries match.
type adoptHolder struct {
	match []byte
	mu    sync.Mutex
	armed bool
	held  chan *heldConn
}

func (h *adoptHolder) arm() {
	h.mu.Lock()
	h.armed = true
	h.mu.Unlock()
}

// take reports whether c keeps back b, the first write armed h sees with match.
func (h *adoptHolder) take(c *heldConn, b []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.armed || !bytes.Contains(b, h.match) {
		return false
	}
	h.armed = false
	c.kept = append([]byte(nil), b...)
	h.held <- c
	return true
}

// A heldConn is a client connection whose one write the holder may keep
// back: the write succeeds, the bytes stay here until deliver, and the
// connection stays open until then, whatever the client does.
type heldConn struct {
	net.Conn
	h      *adoptHolder
	mu     sync.Mutex
	kept   []byte
	closed chan struct{} // closed when the client closes the connection
	once   sync.Once
}

func (c *heldConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept != nil {
		return 0, errors.New("connection held")
	}
	if c.h.take(c, b) {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *heldConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept != nil {
		return nil // deliver closes it
	}
	return c.Conn.Close()
}

// discard closes the connection if deliver has not.
func (c *heldConn) discard() {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.Conn.Close()
}

// deliver writes the bytes kept back and a PING, waits for the PING's
// reply (Redis answers a connection's commands in order), and closes the
// connection.
func (c *heldConn) deliver() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.Conn.Close()
	if err := c.Conn.SetDeadline(time.Now().Add(waitAtOnce)); err != nil {
		return err
	}
	if _, err := c.Conn.Write(append(c.kept, "*1\r\n$4\r\nPING\r\n"...)); err != nil {
		return err
	}
	var got []byte
	for !bytes.HasSuffix(got, []byte("+PONG\r\n")) {
		var buf [512]byte
		n, err := c.Conn.Read(buf[:])
		if err != nil {
			return err
		}
		got = append(got, buf[:n]...)
	}
	return nil
}
