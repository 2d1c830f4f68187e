package redistest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// A Proxy forwards TCP connections from an address of its own on 127.0.0.1
// to a server, and can cut the network between them without closing
// anything: while it is frozen, every byte either side sends is held, in
// order, and delivered when it thaws, as a network partition that heals
// delays packets without losing them. A client of the proxy then sees its
// calls time out, while the server and its other clients go on. New
// connections are accepted while frozen, and held the same way.
type Proxy struct {
	// Addr is the proxy's host:port, on 127.0.0.1.
	Addr string

	target string
	ln     net.Listener

	mu     sync.Mutex
	thawed chan struct{} // closed while forwarding; a new, open one while frozen
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup // the accepting and copying goroutines
}

// NewProxy starts a proxy to target, closed when tb ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("redistest: proxy: %v", err)
	}
	thawed := make(chan struct{})
	close(thawed)
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, thawed: thawed, conns: make(map[net.Conn]bool)}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// Freeze stops forwarding, in both directions, on every connection. It
// does nothing if the proxy is frozen already.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
		p.thawed = make(chan struct{})
	default:
	}
}

// Thaw delivers what was held and forwards again.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// gate returns a channel that is closed once the proxy forwards.
func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thawed
}

// Close stops the proxy: it closes its listener and every connection, and
// waits for its goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		_ = p.ln.Close()
		for c := range p.conns {
			_ = c.Close()
		}
		select {
		case <-p.thawed:
		default:
			close(p.thawed)
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// track records c for Close, or closes it and reports false once closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(client) {
			return
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

// serve dials the target for client, once forwarding, and copies both
// ways.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	<-p.gate()
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		_ = client.Close()
		return
	}
	var both sync.WaitGroup
	both.Add(2)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer both.Done()
		p.copy(server, client)
	}()
	p.copy(client, server)
	both.Done()
	both.Wait()
	p.untrack(client)
	p.untrack(server)
}

// untrack closes c and forgets it.
func (p *Proxy) untrack(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// copy forwards from src to dst, holding what it read while the proxy is
// frozen. When src ends, it delivers what it holds and closes dst's
// writing side, as a peer's FIN would.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				_ = src.Close()
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				<-p.gate()
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			} else {
				_ = dst.Close()
			}
			return
		}
	}
}
