package main

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"time"
)

// What every quick start is asked for: each user holds at most userLimit
// slots, waits at most wait for one, with at most maxWaiters in line.
const (
	userLimit  = 4
	wait       = 2 * time.Second
	maxWaiters = 20
)

// check runs the quick start bin against a redis-server of its own and
// checks its four refusals.
func check(dir, bin string) error {
	rs, err := startRedis(dir)
	if err != nil {
		return err
	}
	defer rs.stop()
	p, err := startProgram(bin, rs.addr)
	if err != nil {
		return err
	}
	defer p.kill()
	if err := fullKey(p); err != nil {
		return fmt.Errorf("full key: %w\n%s", err, p.out)
	}
	if err := fullLine(p, rs); err != nil {
		return fmt.Errorf("full line: %w\n%s", err, p.out)
	}
	if err := closedLimiter(p, rs); err != nil {
		return fmt.Errorf("closed Limiter: %w\n%s", err, p.out)
	}
	p2, err := startProgram(bin, rs.addr)
	if err != nil {
		return err
	}
	defer p2.kill()
	if err := redisStopped(p2, rs); err != nil {
		return fmt.Errorf("stopped Redis: %w\n%s", err, p2.out)
	}
	return nil
}

// hold starts n requests of user, each of an account of its own, that
// stream for a minute, and returns once each has had its first line: the
// user's n slots are then held. They end with ctx; their answers arrive
// on the returned channel.
func hold(ctx context.Context, p *program, user string, n int) (<-chan answer, error) {
	held := make(chan struct{}, n)
	answers := make(chan answer, n)
	for i := range n {
		go func() { answers <- p.get(ctx, user, fmt.Sprint(user, "-", i), 600, held) }()
	}
	for i := range n {
		select {
		case <-held:
		case a := <-answers:
			return nil, fmt.Errorf("holder %d of %d of %s: %d, %v; want 200 and a stream", i+1, n, user, a.code, a.err)
		case <-time.After(hangGuard):
			return nil, fmt.Errorf("%d of %d holders of %s served after %v", i, n, user, hangGuard)
		}
	}
	return answers, nil
}

// refused fails unless a is code, with a Retry-After for a 429.
func refused(a answer, code int) error {
	if a.err != nil || a.code != code || (code == http.StatusTooManyRequests) != (a.retryAfter != "") {
		return fmt.Errorf("got %d (Retry-After %q, err %v) after %v; want %d", a.code, a.retryAfter, a.err, a.took, code)
	}
	return nil
}

// fullKey: with the user's slots all held, one more request waits its
// wait and gets 429.
func fullKey(p *program) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard+wait)
	defer cancel()
	if _, err := hold(ctx, p, "full", userLimit); err != nil {
		return err
	}
	a := p.get(ctx, "full", "full-x", 1, nil)
	if err := refused(a, http.StatusTooManyRequests); err != nil {
		return err
	}
	if a.took < wait {
		return fmt.Errorf("429 after %v; want it after the wait, %v", a.took, wait)
	}
	return nil
}

// fullLine: with the user's slots held and maxWaiters requests in line,
// one more gets 429 at once, and the waiters get 429 when their wait ends.
func fullLine(p *program, rs *redisServer) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard+wait)
	defer cancel()
	if _, err := hold(ctx, p, "line", userLimit); err != nil {
		return err
	}
	waiters := make(chan answer, maxWaiters)
	for range maxWaiters {
		go func() { waiters <- p.get(ctx, "line", "line-w", 1, nil) }()
	}
	if err := queueIs(rs, "user:line", maxWaiters); err != nil {
		return err
	}
	a := p.get(ctx, "line", "line-x", 1, nil)
	if err := refused(a, http.StatusTooManyRequests); err != nil {
		return err
	}
	if a.took >= wait {
		return fmt.Errorf("429 after %v; want it at once, not after the wait", a.took)
	}
	for range maxWaiters {
		if err := refused(<-waiters, http.StatusTooManyRequests); err != nil {
			return fmt.Errorf("a waiter: %w", err)
		}
	}
	return nil
}

// closedLimiter: on SIGTERM the program closes its Limiter: a request in
// line gets 503, the streams of the slots held end, the program exits 0,
// and Redis keeps nothing.
func closedLimiter(p *program, rs *redisServer) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard+wait)
	defer cancel()
	holders, err := hold(ctx, p, "closed", userLimit)
	if err != nil {
		return err
	}
	waiter := make(chan answer, 1)
	go func() { waiter <- p.get(ctx, "closed", "closed-w", 1, nil) }()
	if err := queueIs(rs, "user:closed", 1); err != nil {
		return err
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := refused(<-waiter, http.StatusServiceUnavailable); err != nil {
		return err
	}
	for range userLimit {
		if a := <-holders; a.err != nil || a.code != http.StatusOK || a.took > hangGuard {
			return fmt.Errorf("a holder: %d, %v; want its stream of 200 cut by Close", a.code, a.err)
		}
	}
	if err := p.waitExit(); err != nil {
		return err
	}
	return poll("Redis empty after Close", func() error {
		if n, err := rs.count("DBSIZE"); err != nil || n != 0 {
			return fmt.Errorf("DBSIZE %d, %v; want 0", n, err)
		}
		return nil
	})
}

// redisStopped: with Redis stopped, a request gets 503, and the program
// still exits 0 on SIGTERM.
func redisStopped(p *program, rs *redisServer) error {
	rs.stop()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := refused(p.get(ctx, "down", "down", 1, nil), http.StatusServiceUnavailable); err != nil {
		return err
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	return p.waitExit()
}

// queueIs polls until key's line in Redis (redisslot's default layout)
// has n waiters.
func queueIs(rs *redisServer, key string, n int) error {
	return poll(fmt.Sprintf("%d waiters of %s", n, key), func() error {
		got, err := rs.count("ZCARD", "slots:{"+key+"}:queue")
		if err == nil && got != n {
			err = fmt.Errorf("%d waiters", got)
		}
		return err
	})
}
