package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCounts is what Redis says it has done since it started: the commands
// it ran and the CPU time it used.
type redisCounts struct {
	commands int64          // calls of every command but INFO
	cpu      time.Duration  // used_cpu_sys + used_cpu_user
	byName   *commandCounts // calls of each command but INFO, by its name
}

// commandCounts are the calls of each command, by its commandstats name
// without "cmdstat_" ("evalsha", "zadd", "client|setinfo").
type commandCounts map[string]int64

// sub returns the counts between an earlier snapshot and c.
func (c redisCounts) sub(earlier redisCounts) redisCounts {
	d := redisCounts{commands: c.commands - earlier.commands, cpu: c.cpu - earlier.cpu}
	if c.byName != nil {
		m := commandCounts{}
		for name, n := range *c.byName {
			var before int64
			if earlier.byName != nil {
				before = (*earlier.byName)[name]
			}
			if n-before != 0 {
				m[name] = n - before
			}
		}
		d.byName = &m
	}
	return d
}

// readRedisCounts reads INFO cpu and commandstats in one call.
//
// The command count sums the calls of every cmdstat_ line, which count what
// clients send (EVALSHA itself, ZREM, PUBLISH, a pipeline's every command)
// and every command a script runs inside Redis (TIME, ZADD, ...), whoever
// sent it. It leaves out cmdstat_info: the INFO calls are the benchmark's
// own. CPU is the server's whole process, its background threads included.
func readRedisCounts(ctx context.Context, c *redis.Client) (redisCounts, error) {
	text, err := c.Info(ctx, "cpu", "commandstats").Result()
	if err != nil {
		return redisCounts{}, fmt.Errorf("peerbench: INFO: %w", err)
	}
	return parseRedisCounts(text)
}

func parseRedisCounts(text string) (redisCounts, error) {
	byName := commandCounts{}
	rc := redisCounts{byName: &byName}
	var sys, user float64
	var seen int
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case name == "used_cpu_sys" || name == "used_cpu_user":
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return rc, fmt.Errorf("peerbench: INFO %s: %w", name, err)
			}
			if name == "used_cpu_sys" {
				sys = f
			} else {
				user = f
			}
			seen++
		case strings.HasPrefix(name, "cmdstat_") && name != "cmdstat_info":
			n, err := callsOf(value)
			if err != nil {
				return rc, fmt.Errorf("peerbench: INFO %s: %w", name, err)
			}
			rc.commands += n
			byName[strings.TrimPrefix(name, "cmdstat_")] = n
		}
	}
	if seen != 2 {
		return rc, fmt.Errorf("peerbench: INFO has no used_cpu_sys and used_cpu_user: %q", text)
	}
	rc.cpu = time.Duration((sys + user) * float64(time.Second))
	return rc, nil
}

// callsOf reads calls=N from a commandstats value such as
// "calls=3,usec=10,usec_per_call=3.33,rejected_calls=0,failed_calls=0".
func callsOf(value string) (int64, error) {
	for field := range strings.SplitSeq(value, ",") {
		if n, ok := strings.CutPrefix(field, "calls="); ok {
			return strconv.ParseInt(n, 10, 64)
		}
	}
	return 0, fmt.Errorf("no calls= in %q", value)
}

// redisVersion returns the server's redis_version.
func redisVersion(ctx context.Context, c *redis.Client) (string, error) {
	text, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("peerbench: INFO server: %w", err)
	}
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "unknown", nil
}
