package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// A hotCell is one design on one hot key shape: limit L, hold h.
type hotCell struct {
	d     design
	limit int
	hold  time.Duration
}

// hotResult is what one hot-key run measured within its window.
type hotResult struct {
	served    int             // acquires served within the window
	waits     []time.Duration // their waits, sorted
	overtaken float64         // share of them overtaken (overtakenShare)
	use       usage           // Redis's and this process's work in the window
	errs      string          // errors seen, if any
}

// runHot runs one hot-key cell: 4·L callers spread over the design's
// instances, each acquiring key, holding the slot for h and releasing it,
// back to back; it measures the window that follows the warm-up.
func (b *bench) runHot(ctx context.Context, c hotCell, key string) (hotResult, error) {
	errs := &errorLog{}
	var ins []instance
	defer func() {
		for _, in := range ins {
			errs.add(in.close())
		}
	}()
	for range c.d.instances {
		in, err := c.d.open(b.env(errs))
		if err != nil {
			return hotResult{}, err
		}
		ins = append(ins, in)
	}
	logs := make([][]grant, 4*c.limit)
	origin := time.Now()
	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range logs {
		wg.Go(func() { hotCaller(run, ins[i%len(ins)], key, c, origin, &logs[i], errs) })
	}
	s0, s1, err := b.window(ctx)
	stop()
	wg.Wait()
	if err != nil {
		return hotResult{}, err
	}
	r := hotResult{use: s1.since(s0)}
	r.fill(slices.Concat(logs...), s0.at.Sub(origin), s1.at.Sub(origin))
	r.errs = errs.String()
	return r, nil
}

// window waits out the warm-up, and returns the snapshots that open and
// close the measured duration.
func (b *bench) window(ctx context.Context) (s0, s1 snapshot, err error) {
	if err = sleep(ctx, b.cfg.warmup); err != nil {
		return
	}
	if s0, err = take(ctx, b.monitor, !withAllocs); err != nil {
		return
	}
	if err = sleep(ctx, b.cfg.duration); err != nil {
		return
	}
	s1, err = take(ctx, b.monitor, !withAllocs)
	return
}

// hotCaller acquires, holds and releases until ctx is done, logging each
// served acquire. An error other than ctx's is logged, and the caller
// pauses for a millisecond before it tries again.
func hotCaller(ctx context.Context, in instance, key string, c hotCell, origin time.Time, log *[]grant, errs *errorLog) {
	for ctx.Err() == nil {
		start := time.Since(origin)
		release, err := in.acquire(ctx, key, c.limit)
		if err != nil {
			if ctx.Err() == nil {
				errs.add(err)
				_ = sleep(ctx, time.Millisecond)
			}
			continue
		}
		*log = append(*log, grant{start: start, served: time.Since(origin)})
		time.Sleep(c.hold)
		release()
	}
}

// fill computes r's figures from every grant of the run and the window.
func (r *hotResult) fill(grants []grant, from, to time.Duration) {
	for _, g := range grants {
		if g.served >= from && g.served <= to {
			r.waits = append(r.waits, g.served-g.start)
		}
	}
	slices.Sort(r.waits)
	r.served = len(r.waits)
	r.overtaken = overtakenShare(grants, from, to)
}
