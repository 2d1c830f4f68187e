package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// serverStartTimeout bounds how long a started redis-server may take to
// answer PING.
const serverStartTimeout = 10 * time.Second

// A server is a redis-server process that the benchmark started, on a free
// port of 127.0.0.1, with no persistence.
type server struct {
	addr string
	cmd  *exec.Cmd
	log  *lockedBuffer // its output, for the error when it fails
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, set before done is closed
}

// startServer starts bin on a free port and waits until it answers PING.
// A port taken between the look-up and the server's bind fails the start;
// it is tried again on another port, up to three times.
func startServer(ctx context.Context, bin string) (*server, error) {
	var err error
	for range 3 {
		var s *server
		if s, err = tryServer(ctx, bin); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func tryServer(ctx context.Context, bin string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{addr: "127.0.0.1:" + strconv.Itoa(port), log: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	ownGroup(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("peerbench: start %s: %w", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		_ = s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls PING until the server answers, exits, ctx ends or
// serverStartTimeout passes.
func (s *server) waitReady(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(serverStartTimeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("peerbench: redis-server exited (%v): %s", s.err, s.log.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("peerbench: redis-server on %s did not answer PING within %v: %v", s.addr, serverStartTimeout, err)
		}
	}
}

// stop ends the server by its pid (SIGTERM, then SIGKILL after 5 s) and
// waits for it to exit.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	var exit *exec.ExitError
	if s.err != nil && !errors.As(s.err, &exit) {
		return s.err
	}
	return nil
}

// freePort returns a port of 127.0.0.1 that nothing listened on a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("peerbench: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// A lockedBuffer is a bytes.Buffer safe for the writes of a process's
// output and a concurrent read.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
