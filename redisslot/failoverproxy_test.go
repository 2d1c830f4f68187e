package redisslot_test

import (
	"net"
	"sync"
	"testing"
)

// A failoverProxy is the one address through which clients reach "the
// master", as a DNS name, a virtual IP or a proxy that a failover moves: it
// forwards each connection to its current target, and moveTo changes the
// target, doing with the open connections what open says.
type failoverProxy struct {
	addr string
	ln   net.Listener
	wg   sync.WaitGroup // the accepting and copying goroutines

	mu     sync.Mutex
	target string
	links  map[*proxyLink]bool
}

// openConns says what a failover does with the connections open through the
// address.
type openConns int

const (
	// dropConns closes them, as a virtual IP that moves, or a client that
	// Sentinel tells of the new master: every client reconnects.
	dropConns openConns = iota
	// moveConns keeps each client's connection and carries it on to the new
	// target between two commands, as a proxy that survives a failover does;
	// Redis state tied to the connection (a subscription) stays behind.
	moveConns
	// keepConns leaves them on the old target, as a DNS name that now names
	// the new master: only new connections reach it.
	keepConns
)

// A proxyLink is one client connection and its server connection.
type proxyLink struct {
	client net.Conn
	mu     sync.Mutex
	server net.Conn
}

func (l *proxyLink) current() net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.server
}

func newFailoverProxy(t *testing.T, target string) *failoverProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &failoverProxy{addr: ln.Addr().String(), ln: ln, target: target, links: make(map[*proxyLink]bool)}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for l := range p.links {
			_ = l.client.Close()
			_ = l.current().Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// moveTo makes target the address's server, for new connections, and for
// the open ones as open says.
func (p *failoverProxy) moveTo(t *testing.T, target string, open openConns) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	for l := range p.links {
		switch open {
		case dropConns:
			_ = l.client.Close()
			_ = l.current().Close()
		case moveConns:
			s, err := net.Dial("tcp", target)
			if err != nil {
				t.Fatalf("failover proxy: dial %s: %v", target, err)
			}
			l.mu.Lock()
			old := l.server
			l.server = s
			l.mu.Unlock()
			_ = old.Close()
		}
	}
}

func (p *failoverProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		l := &proxyLink{client: c, server: s}
		p.links[l] = true
		p.mu.Unlock()
		var both sync.WaitGroup
		both.Add(2)
		p.wg.Go(func() { defer both.Done(); p.toServer(l) })
		p.wg.Go(func() { defer both.Done(); p.toClient(l) })
		p.wg.Go(func() {
			both.Wait()
			p.mu.Lock()
			delete(p.links, l)
			p.mu.Unlock()
		})
	}
}

// toServer copies the client's bytes to the link's current server, until
// the client's side ends.
func (p *failoverProxy) toServer(l *proxyLink) {
	buf := make([]byte, 32<<10)
	for {
		n, err := l.client.Read(buf)
		if n > 0 {
			if _, werr := l.current().Write(buf[:n]); werr != nil {
				_ = l.client.Close()
			}
		}
		if err != nil {
			_ = l.current().Close()
			return
		}
	}
}

// toClient copies the server's bytes to the client, going on with the new
// server when moveTo replaced the one it read from.
func (p *failoverProxy) toClient(l *proxyLink) {
	buf := make([]byte, 32<<10)
	for {
		s := l.current()
		n, err := s.Read(buf)
		if n > 0 {
			_, _ = l.client.Write(buf[:n])
		}
		if err != nil {
			if l.current() != s {
				continue // moved: read from the new server
			}
			_ = l.client.Close()
			return
		}
	}
}
