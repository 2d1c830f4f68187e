package main

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"time"
)

// settleTimeout bounds the wait for the goroutines of closed connections
// to exit before they are counted at the end.
const settleTimeout = 2 * time.Second

// run starts the gateway instances on cfg's backend, drives them with the
// load generator for cfg.Duration, stops everything, and checks that no
// slot is left held (and, with Redis, no key left). It returns an error
// when something could not be set up or stopped; the result says whether
// the run was clean (see [result.problems]).
func run(ctx context.Context, cfg config) (*result, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	res := &result{
		clients:          cfg.clients(),
		goroutinesBefore: runtime.NumGoroutine(),
	}
	b, err := newBackend(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.backend, res.prefix = b.name, b.prefix
	tr := newTracker()
	insts, err := startInstances(cfg, b, tr)
	if err != nil {
		_, cerr := b.close()
		return nil, errors.Join(err, cerr)
	}
	res.instances = len(insts)
	lg := newLoadgen(cfg, urls(insts), b.outages.isDown)
	stopProgress := startProgress(cfg.Progress, lg, b, cfg.keys())
	start := time.Now()
	lg.run(ctx, cfg.Duration, cfg.Cover, func() bool {
		return lg.served.Load() > 0 && lg.refusedN.Load() > 0 && freedByHangUp(insts) > 0 &&
			(cfg.CoverAlso == nil || cfg.CoverAlso())
	})
	res.duration = time.Since(start).Round(100 * time.Millisecond)
	stopProgress()
	// Close the clients' connections first: the server waits up to 5s for a
	// connection that was opened but never sent a request.
	lg.close()

	errs := []error{stopInstances(insts)}
	// Every request has ended: count what is still held before Close, which
	// would free it.
	res.stillHeld, err = b.stillHeld(context.WithoutCancel(ctx), cfg.keys())
	errs = append(errs, err)
	keys, err := b.close()
	res.keysLeft, res.tombs = withoutTombstones(keys)
	res.fallback = cfg.Fallback
	errs = append(errs, err)
	res.collect(lg, insts, tr, b)
	res.goroutinesAfter = settledGoroutines(res.goroutinesBefore)
	return res, errors.Join(errs...)
}

// freedByHangUp counts the slots that the instances' guards freed as
// clients hung up.
func freedByHangUp(insts []*instance) int64 {
	var n int64
	for _, in := range insts {
		n += in.gw.stats.freedByHangUp.Load()
	}
	return n
}

func urls(insts []*instance) []string {
	us := make([]string, len(insts))
	for i, in := range insts {
		us[i] = in.url
	}
	return us
}

// settledGoroutines returns the number of goroutines once it is down to
// want, or after settleTimeout: goroutines of closed connections take a
// moment to exit.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(settleTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// withoutTombstones splits keys into the tombstone sets of redisslot
// (which end in ":gone" and outlive their key's last use on purpose) and
// the others.
func withoutTombstones(keys []string) (others []string, tombs int) {
	for _, k := range keys {
		if strings.HasSuffix(k, ":gone") {
			tombs++
		} else {
			others = append(others, k)
		}
	}
	return others, tombs
}
