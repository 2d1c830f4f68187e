package main

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// An opDesign is one way to take a slot nobody else wants and give it back.
type opDesign struct {
	name string
	open func(env) (opInstance, error)
}

// An opInstance runs ops: the i-th takes a slot of key and releases it.
type opInstance interface {
	op(ctx context.Context, key string, i int) error
	// settle waits until the work the ops left to the background (a
	// free sent after the release returned) is done.
	settle(ctx context.Context) error
	close() error
}

// opDesigns returns the uncontended designs in the order the table lists
// them.
func opDesigns() []opDesign {
	return []opDesign{
		{name: "redisslot", open: openRedisslotOps},
		{name: "hand-written", open: openHandOps},
		{name: "two no-op EVALSHA (floor)", open: openNoopOps},
	}
}

// opResult is what one uncontended run measured.
type opResult struct {
	ops  int
	lats []time.Duration // each op's latency, sorted
	use  usage
}

// opWarmup is the ops run before the measured ones: the scripts are
// loaded and the connection is open by then.
const opWarmup = 50

// runOps runs d's ops back to back on one key for the configured duration,
// then waits for their background work, so that the window counts it.
func (b *bench) runOps(ctx context.Context, d opDesign, key string) (r opResult, err error) {
	errs := &errorLog{}
	in, err := d.open(b.env(errs))
	if err != nil {
		return r, err
	}
	defer func() { errs.add(in.close()); err = firstErr(err, errs, nil) }()
	for i := range opWarmup {
		if err := in.op(ctx, key, i); err != nil {
			return r, err
		}
	}
	if err := in.settle(ctx); err != nil {
		return r, err
	}
	lats := make([]time.Duration, 0, int(b.cfg.duration/(20*time.Microsecond))+1024)
	s0, err := take(ctx, b.monitor, withAllocs)
	if err != nil {
		return r, err
	}
	for end := s0.at.Add(b.cfg.duration); len(lats) == 0 || time.Now().Before(end); {
		t0 := time.Now()
		if err := in.op(ctx, key, len(lats)); err != nil {
			return r, err
		}
		lats = append(lats, time.Since(t0))
	}
	if err := in.settle(ctx); err != nil {
		return r, err
	}
	s1, err := take(ctx, b.monitor, withAllocs)
	slices.Sort(lats)
	return opResult{ops: len(lats), lats: lats, use: s1.since(s0)}, err
}

// firstErr returns err, or else more, or else the errors errs logged.
func firstErr(err error, errs *errorLog, more error) error {
	switch {
	case err != nil:
		return err
	case more != nil:
		return more
	case errs.String() != "":
		return fmt.Errorf("peerbench: %s", errs)
	}
	return nil
}
