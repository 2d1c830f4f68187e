package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// hangGuard bounds every wait for what, with a working quick start,
// happens at once.
const hangGuard = 10 * time.Second

// A redisServer is a redis-server of the check's own, on a free port of
// 127.0.0.1, that keeps nothing on disk.
type redisServer struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startRedis starts a redis-server, logging to dir, and waits until it
// answers PING.
func startRedis(dir string) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &redisServer{addr: "127.0.0.1:" + port, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(r.exited) }()
	if err := poll("redis-server answers PING", func() error {
		reply, err := r.do("PING")
		if err == nil && reply != "+PONG" {
			err = fmt.Errorf("PING: %s", reply)
		}
		return err
	}); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// stop stops the server by its pid and waits for it to exit.
func (r *redisServer) stop() {
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(hangGuard):
		r.cmd.Process.Kill()
		<-r.exited
	}
}

// do sends one command and returns the first line of the reply, as
// ":20" or "+PONG".
func (r *redisServer) do(args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", r.addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(hangGuard))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// count returns the integer reply of a command.
func (r *redisServer) count(args ...string) (int, error) {
	reply, err := r.do(args...)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(reply, ":") {
		return 0, fmt.Errorf("%v: %s", args, reply)
	}
	return strconv.Atoi(reply[1:])
}

// freePort returns a port of 127.0.0.1 that nothing listened on a moment
// ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// poll calls cond every 10 ms until it returns nil, at most hangGuard, and
// returns its last error, naming what, if it never does.
func poll(what string, cond func() error) error {
	deadline := time.Now().Add(hangGuard)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not after %v: %v", what, hangGuard, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
