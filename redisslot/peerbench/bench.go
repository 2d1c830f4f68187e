package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"
)

// A bench is one run of the program: its configuration, the Redis it
// measures, and its own client for INFO.
type bench struct {
	cfg      config
	addr     string        // Redis
	prefix   string        // put before every Redis key of this run
	monitor  *redis.Client // reads INFO; sends nothing else while a design runs
	progress io.Writer     // a line per step, for the reader waiting
}

// env returns what an instance of a design is opened with.
func (b *bench) env(errs *errorLog) env {
	return env{addr: b.addr, prefix: b.prefix, poll: b.cfg.poll, errs: errs}
}

// step reports a step on the progress writer.
func (b *bench) step(format string, args ...any) {
	fmt.Fprintf(b.progress, format+"\n", args...)
}

// sleep waits for d or until ctx is done, and returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitFor polls cond every millisecond until it holds, ctx is done, or
// limit passes, and says which of the two it gave up on.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("peerbench: %s: not after %v", what, limit)
		}
		if err := sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}
