package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// redisStartTimeout bounds how long redis-server may take to answer PING.
const redisStartTimeout = 20 * time.Second

// startRedis starts a redis-server of the test's own, with no persistence,
// on a free port of 127.0.0.1, and returns its address. The server is killed
// by its pid when the test ends. Without redis-server on PATH the test is
// skipped, or fails if REDISSLOT_REQUIRE_REDIS=1.
func startRedis(t *testing.T) string {
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
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	dir := t.TempDir()
	log := filepath.Join(dir, "redis.log")
	// No Stdout or Stderr: os/exec then starts no goroutine to copy them.
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", log)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(redisStartTimeout)
	for {
		err := ping(addr)
		if err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log)
			t.Fatalf("redis-server on %s did not answer PING within %v: %v; its log:\n%s", addr, redisStartTimeout, err, b)
		}
		time.Sleep(20 * time.Millisecond)
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
