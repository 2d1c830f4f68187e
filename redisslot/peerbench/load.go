package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/redis/go-redis/v9"
)

// loadTable gathers, per round, the median time of a redisslot Load of the
// keys, of a pipeline of as many no-op EVALSHA, and their ratio.
type loadTable struct {
	keys               int
	load, noops, ratio figure
}

// loadRound holds one slot of each of cfg.loadKeys keys, then times Load
// of them all and a pipeline of one no-op EVALSHA per key, alternately,
// cfg.loadReps times each.
func (b *bench) loadRound(ctx context.Context, round int, t *loadTable) (err error) {
	b.step("round %d: Load of %d keys", round+1, b.cfg.loadKeys)
	errs := &errorLog{}
	r := newRedisslot(b.env(errs), redisslot.Options{})
	defer func() { errs.add(r.close()); err = firstErr(err, errs, nil) }()
	keys := make([]string, b.cfg.loadKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("load:%d:%d", round, i)
	}
	releases, err := holdKeys(ctx, r.l, keys)
	if err != nil {
		return err
	}
	defer func() { err = firstErr(err, errs, r.releaseAndSettle(ctx, releases)) }()
	if err := noop.Load(ctx, r.client).Err(); err != nil {
		return err
	}
	var loads, noops []time.Duration
	for range b.cfg.loadReps + 1 { // the first of each warms up
		t0 := time.Now()
		if _, err := r.l.Load(ctx, keys...); err != nil {
			return err
		}
		t1 := time.Now()
		if err := noopPipeline(ctx, r.client, keys); err != nil {
			return err
		}
		loads, noops = append(loads, t1.Sub(t0)), append(noops, time.Since(t1))
	}
	l, n := median(loads[1:]), median(noops[1:])
	t.load.add(l.Seconds())
	t.noops.add(n.Seconds())
	t.ratio.add(l.Seconds() / n.Seconds())
	return nil
}

// noopPipeline sends one no-op EVALSHA per key, naming it, in one pipeline.
func noopPipeline(ctx context.Context, c *redis.Client, keys []string) error {
	pipe := c.Pipeline()
	for _, k := range keys {
		noop.EvalSha(ctx, pipe, []string{k})
	}
	_, err := pipe.Exec(ctx)
	return err
}

// median returns the median of ds (the upper one of an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

// write prints the Load table.
func (t *loadTable) write(w io.Writer) {
	tb := table{header: []string{"", "p50", "÷ no-op pipeline"}}
	tb.add("redisslot Load of "+grouped(t.keys)+" keys", t.load.format(duration), t.ratio.format(times))
	tb.add("pipeline of "+grouped(t.keys)+" no-op EVALSHA", t.noops.format(duration), "1")
	tb.write(w)
}
