// Command peerbench measures redisslot against the physical limit of a hot
// key, against slots.Local, against a hand-written sorted-set semaphore and
// against two Redis locks (github.com/redis/rueidis/rueidislock and
// github.com/bsm/redislock), with the designs interleaved in one run, and
// prints markdown tables: each figure is the median over rounds, with the
// lowest and highest round.
//
// A served acquire is overtaken when another acquire, by any caller on any
// instance, started waiting strictly later (called acquire later, on this
// process's monotonic clock) and was served strictly earlier; the overtaken
// column is the share of the acquires served in the measured window that
// were. Commands inside Redis and Redis CPU are the INFO commandstats and
// INFO cpu deltas over the measured window: whatever Redis ran then, script
// bodies, background frees and renewals included. README.md defines every
// column.
//
// It starts a redis-server of its own on a free port of 127.0.0.1, with no
// persistence, and stops it by its pid when it ends, on SIGINT and SIGTERM
// too; or it uses the Redis at -redis.
//
// Usage:
//
//	go run . [-rounds 3] [-duration 3s] [-L 1,8,32] [-hold 1ms,10ms] [-quick] [-redis ADDR]
//
// Progress goes to standard error, the tables to standard output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(os.Stderr, "peerbench: interrupted (%v); stopped\n", err)
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
