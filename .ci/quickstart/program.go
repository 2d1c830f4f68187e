package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// A program is a running quick start.
type program struct {
	addr   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
	client *http.Client
}

// startProgram runs bin with -addr on a free port and -redis redisAddr,
// and waits until it accepts connections.
func startProgram(bin, redisAddr string) (*program, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &program{
		addr:   "127.0.0.1:" + port,
		out:    &syncBuffer{},
		exited: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	p.cmd = exec.Command(bin, "-addr", p.addr, "-redis", redisAddr)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	err = poll("the quick start accepts connections", func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("exited: %v\n%s", p.err, p.out)
		default:
		}
		conn, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return err
	})
	if err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// waitExit waits for the program to exit, which it must do with status 0.
func (p *program) waitExit() error {
	select {
	case <-p.exited:
	case <-time.After(hangGuard):
		p.kill()
		return fmt.Errorf("still running %v after SIGTERM", hangGuard)
	}
	if p.err != nil {
		return fmt.Errorf("exit after SIGTERM: %v", p.err)
	}
	return nil
}

// kill stops the program if it still runs.
func (p *program) kill() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// An answer is the status of one request, when it came, and its
// Retry-After.
type answer struct {
	code       int
	retryAfter string
	took       time.Duration
	err        error
}

// get sends GET /?lines=lines for user and account, with ctx, and returns
// its answer once the headers have come. A 200's body is read to its end
// (or until ctx ends) before get returns, unless held is not nil: then get
// sends on held once the first line has come, and reads the rest.
func (p *program) get(ctx context.Context, user, account string, lines int, held chan<- struct{}) answer {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.addr+"/?lines="+strconv.Itoa(lines), nil)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("X-User", user)
	req.Header.Set("X-Account", account)
	resp, err := p.client.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start)}
	body := bufio.NewReader(resp.Body)
	if held != nil && a.code == http.StatusOK {
		if _, err := body.ReadString('\n'); err == nil {
			held <- struct{}{}
		}
	}
	for {
		if _, err := body.ReadString('\n'); err != nil {
			return a
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
