package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// redisStartTimeout bounds how long redis-server may take to answer PING.
const redisStartTimeout = 20 * time.Second

// startRedis starts a redis-server of the test's own, with no persistence,
// on a free port of 127.0.0.1, and returns its address. The server is killed
// by its pid when the test ends. Without redis-server on PATH the test is
// skipped, or fails if REDISSLOT_REQUIRE_REDIS=1.
func startRedis(t *testing.T) string { return startRedisServer(t).addr }

// A redisServer is a redis-server process of a test, which the test may
// kill and start again, empty, on the same port.
type redisServer struct {
	t    *testing.T
	addr string
	args []string
	mu   sync.Mutex
	cmd  *exec.Cmd // nil while killed
}

// startRedisServer starts a redis-server as startRedis does, and returns
// it.
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("REDISSLOT_REQUIRE_REDIS") == "1" {
			t.Fatalf("REDISSLOT_REQUIRE_REDIS=1 and %v", err)
		}
		t.Skipf("%v; install redis-server (apt-get install redis-server, brew install redis) to run this test", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	s := &redisServer{t: t, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), args: []string{path,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}}
	t.Cleanup(s.kill)
	s.start()
	return s
}

// start starts the server and waits until it answers PING.
func (s *redisServer) start() {
	// No Stdout or Stderr: os/exec then starts no goroutine to copy them.
	cmd := exec.Command(s.args[0], s.args[1:]...)
	if err := cmd.Start(); err != nil {
		s.t.Errorf("start redis-server: %v", err)
		return
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(redisStartTimeout)
	for {
		err := ping(s.addr)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Errorf("redis-server on %s did not answer PING within %v: %v", s.addr, redisStartTimeout, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill kills the server by its pid, if it runs: it forgets everything.
func (s *redisServer) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// ping sends PING on a connection of its own and wants +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}
