// Command gateway is a small HTTP gateway that limits how many requests each
// user and each account have in flight, with the slots of package
// github.com/ctxguard/release/slots, driven by a built-in load generator
// whose clients hang up early. It prints a summary and exits non-zero if a
// limit was ever exceeded or a slot is still held at the end.
//
//	go run .                                # one instance, slots in process
//	go run . -redis 127.0.0.1:6379          # two instances sharing that Redis
//	go run . -redis 127.0.0.1:6379 -fallback 1  # each serving 1 slot of a key while Redis is away
//
// The load generator sends requests for -duration (default 3s) to what the
// gateway listens on (-listen, a loopback address, default 127.0.0.1:0).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() { os.Exit(command()) }

func command() int {
	cfg := defaultConfig()
	flag.StringVar(&cfg.Redis, "redis", "", "Redis `address` shared by two gateway instances; empty: one instance, slots in process")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the load generator sends requests")
	flag.StringVar(&cfg.Listen, "listen", cfg.Listen, "loopback `address` the first instance listens on")
	flag.IntVar(&cfg.Fallback, "fallback", 0, "with -redis, the `share` of each key an instance serves on its own while Redis cannot be reached; 0: none")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gateway: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		return 2
	}
	cfg.Progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	res, err := run(ctx, cfg)
	if res != nil {
		res.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		return 1
	}
	if ps := res.problems(); len(ps) > 0 {
		for _, p := range ps {
			fmt.Fprintln(os.Stderr, "gateway: FAIL:", p)
		}
		return 1
	}
	fmt.Println("\nOK: no limit exceeded, no slot left held")
	return 0
}
