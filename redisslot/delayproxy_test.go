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
}

func newDelayProxy(t *testing.T, target string, delay time.Duration, holdRequest bool, match func([]byte) bool) *delayProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{addr: ln.Addr().String()}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			var held, holdReply atomic.Bool
			wg.Add(2)
			go func() { // client to server
				defer wg.Done()
				defer s.(*net.TCPConn).CloseWrite() // the server still runs what it was sent
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if match(buf[:n]) && p.matched.CompareAndSwap(false, true) {
							if holdRequest {
								time.Sleep(delay)
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
			}()
			go func() { // server to client
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if held.Load() {
							p.answered.Store(true)
						}
						if holdReply.CompareAndSwap(true, false) {
							time.Sleep(delay)
						}
						_, _ = c.Write(buf[:n]) // the client may be gone: read on, to see the answer
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
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
