package redisslot_test

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A delayProxy forwards TCP connections to a server and, on the first
// client chunk that matches, holds up one direction of that connection
// alone for delay: the request itself (held) or the server's reply to it
// (not held), as one TCP connection waits out a retransmission timer while
// the instance's other connections go on. A held request is delivered
// even if the client has closed the connection meanwhile, as the kernel
// delivers what was written before a close.
type delayProxy struct {
	addr     string
	answered atomic.Bool // the server has answered the held request
	matched  atomic.Bool // a chunk has matched

	target      string
	delay       time.Duration
	gate        chan struct{} // if not nil, what is held waits for it, not for delay
	holdRequest bool
	match       func([]byte) bool
	wg          sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn // every connection, closed at cleanup
}

func newDelayProxy(t *testing.T, target string, delay time.Duration, holdRequest bool, match func([]byte) bool) *delayProxy {
	t.Helper()
	return startProxy(t, &delayProxy{target: target, delay: delay, holdRequest: holdRequest, match: match})
}

// startProxy has p listen and forward, until t's cleanups.
func startProxy(t *testing.T, p *delayProxy) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.wg.Go(func() { p.accept(ln) })
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// newGatedProxy returns a delayProxy that holds up what matches (see
// newDelayProxy) until open is called; a cleanup of t calls open too.
func newGatedProxy(t *testing.T, target string, holdRequest bool, match func([]byte) bool) (p *delayProxy, open func()) {
	t.Helper()
	gate := make(chan struct{})
	open = sync.OnceFunc(func() { close(gate) })
	p = startProxy(t, &delayProxy{target: target, gate: gate, holdRequest: holdRequest, match: match})
	t.Cleanup(open) // before the proxy's own cleanup, which waits for its goroutines
	return p, open
}

// hold waits out the fault: until the gate opens, or for delay.
func (p *delayProxy) hold() {
	if p.gate != nil {
		<-p.gate
		return
	}
	time.Sleep(p.delay)
}

// accept forwards each connection ln accepts until ln is closed.
func (p *delayProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		var held, holdReply atomic.Bool
		p.wg.Go(func() { p.toServer(c, s, &held, &holdReply) })
		p.wg.Go(func() { p.toClient(c, s, &held, &holdReply) })
	}
}

// toServer copies client c to server s, holding up the first matching
// chunk (or marking its reply to be held up).
func (p *delayProxy) toServer(c, s net.Conn, held, holdReply *atomic.Bool) {
	defer s.(*net.TCPConn).CloseWrite() // the server still runs what it was sent
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if p.match(buf[:n]) && p.matched.CompareAndSwap(false, true) {
				if p.holdRequest {
					p.hold() // the fault itself: this connection's request waits
					held.Store(true)
				} else {
					holdReply.Store(true)
				}
			}
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// toClient copies server s to client c, holding up the marked reply.
func (p *delayProxy) toClient(c, s net.Conn, held, holdReply *atomic.Bool) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if held.Load() {
				p.answered.Store(true)
			}
			if holdReply.CompareAndSwap(true, false) {
				p.hold() // the fault itself: this connection's reply waits
			}
			_, _ = c.Write(buf[:n]) // the client may be gone: read on, to see the answer
		}
		if err != nil {
			return
		}
	}
}

// containsAll reports whether b holds every one of subs.
func containsAll(b []byte, subs ...string) bool {
	for _, s := range subs {
		if !bytes.Contains(b, []byte(s)) {
			return false
		}
	}
	return true
}
