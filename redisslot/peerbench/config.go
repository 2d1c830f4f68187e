package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// config is what the flags choose.
type config struct {
	redisAddr   string          // a running Redis to use; empty: start one
	redisServer string          // the redis-server binary to start
	rounds      int             // rounds, each running every design once
	duration    time.Duration   // measured time of each design in each round
	warmup      time.Duration   // time each hot-key run runs before it is measured
	limits      []int           // hot key: the limits L
	holds       []time.Duration // hot key: the holds h
	poll        time.Duration   // retry interval of the polling designs
	loadKeys    int             // keys read by one Load
	loadReps    int             // Loads (and no-op pipelines) timed per round
	renewKeys   int             // slots (one per key) held for the renewal rounds
	renewLease  time.Duration   // Lease of the renewal Limiter: a round every Lease/3
	renewRounds int             // renewal rounds measured per round
	hotOnly     bool            // run the hot key alone, none of the other tables
	byCommand   bool            // print the hot key's commands inside Redis by command name
}

// quickValues are the values -quick gives the flags not set explicitly: a
// run of a few seconds that still prints every table. The warm-up is as long
// as the measured time, since the first run also warms a fresh process and
// redis-server; the renewal Lease leaves a round on a loaded machine far more
// than the 50 ms a Lease of 300 ms would.
var quickValues = map[string]string{
	"duration":     "200ms",
	"warmup":       "200ms",
	"L":            "1",
	"hold":         "1ms",
	"load-keys":    "100",
	"load-reps":    "5",
	"renew-keys":   "1000",
	"renew-lease":  "1s",
	"renew-rounds": "2",
}

// parseConfig parses args (without the program's name). Usage and errors
// go to stderr.
func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.redisAddr, "redis", "", "`address` of a running Redis to use (default: start a redis-server of its own on a free port)")
	fs.StringVar(&c.redisServer, "redis-server", "redis-server", "the redis-server `binary` to start when -redis is not given")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds; every design runs once per round, interleaved, and each figure is the median over rounds")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "measured time of each design in each round (hot key, uncontended)")
	fs.DurationVar(&c.warmup, "warmup", 500*time.Millisecond, "time each hot-key run runs before its measured time starts")
	limits := fs.String("L", "1,8,32", "hot key: comma-separated limits")
	holds := fs.String("hold", "1ms,10ms", "hot key: comma-separated holds")
	fs.DurationVar(&c.poll, "poll", time.Millisecond, "retry interval of the polling designs (hand-written, bsm/redislock) when the key is full")
	fs.IntVar(&c.loadKeys, "load-keys", 1000, "keys read by one Load")
	fs.IntVar(&c.loadReps, "load-reps", 20, "Loads, and as many no-op pipelines, timed per round")
	fs.IntVar(&c.renewKeys, "renew-keys", 10000, "slots, one per key, held by one Limiter for the renewal rounds")
	fs.DurationVar(&c.renewLease, "renew-lease", 3*time.Second, "Lease of that Limiter: it renews every Lease/3")
	fs.IntVar(&c.renewRounds, "renew-rounds", 3, "renewal rounds measured per round")
	fs.BoolVar(&c.hotOnly, "hot-only", false, "run and print the hot-key table alone")
	fs.BoolVar(&c.byCommand, "by-command", false, "print the hot key's commands inside Redis per acquire by command name (INFO commandstats deltas, summed over rounds)")
	quick := fs.Bool("quick", false, "a run of seconds that prints every table: "+quickSummary())
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("peerbench: unexpected arguments %q", fs.Args())
	}
	if *quick {
		if err := applyQuick(fs); err != nil {
			return c, err
		}
	}
	var err error
	if c.limits, err = parseInts(*limits); err != nil {
		return c, fmt.Errorf("peerbench: -L: %w", err)
	}
	if c.holds, err = parseDurations(*holds); err != nil {
		return c, fmt.Errorf("peerbench: -hold: %w", err)
	}
	return c, c.check()
}

// applyQuick sets each flag of quickValues that the command line did not set.
func applyQuick(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range quickValues {
		if !set[name] {
			if err := fs.Set(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func quickSummary() string {
	var parts []string
	for _, name := range []string{"duration", "warmup", "L", "hold", "load-keys", "load-reps", "renew-keys", "renew-lease", "renew-rounds"} {
		parts = append(parts, "-"+name+" "+quickValues[name])
	}
	return strings.Join(parts, " ")
}

// check says what is wrong with c, if anything.
func (c config) check() error {
	switch {
	case c.rounds < 1:
		return fmt.Errorf("peerbench: -rounds %d; want at least 1", c.rounds)
	case c.duration <= 0 || c.warmup < 0 || c.poll <= 0:
		return errors.New("peerbench: -duration and -poll must be positive, -warmup not negative")
	case c.loadKeys < 1 || c.loadReps < 1 || c.renewKeys < 1 || c.renewRounds < 1:
		return errors.New("peerbench: -load-keys, -load-reps, -renew-keys and -renew-rounds must be at least 1")
	case c.renewLease < 100*time.Millisecond:
		return fmt.Errorf("peerbench: -renew-lease %v; want at least 100ms", c.renewLease)
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a positive duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}
