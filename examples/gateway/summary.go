package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ctxguard/release/slots"
)

// A result is what a run saw, for the summary table.
type result struct {
	backend   string
	prefix    string // Redis key prefix; empty in process
	instances int
	clients   int
	duration  time.Duration // how long the load ran

	requests, served, hungUp int64
	refused                  map[string]int64 // by reason
	freedByHangUp            int64            // slots freed as their client hung up
	clientErrs               int              // requests that failed for no good reason
	firstClientErrs          []error
	backgroundErrs           int // the Limiters' background errors
	firstBackgroundErrs      []error

	// Redis did not answer for outage in all, if outageSeen; requests
	// began then, and were served or refused.
	outageSeen                                  bool
	outage                                      time.Duration
	outageRequests, outageServed, outageRefused int64

	peaks     []peak       // most holders at once, per key
	stillHeld []slots.Load // keys held once every request had ended
	keysLeft  []string     // Redis keys left under prefix at the end, tombstones aside
	tombs     int          // tombstone sets left (…:gone), forgotten by Redis within 15 minutes
	fallback  int          // each instance's share of a key while Redis is away

	goroutinesBefore, goroutinesAfter int
}

func (r *result) collect(lg *loadgen, insts []*instance, tr *tracker, b *backend) {
	r.requests, r.served, r.hungUp = lg.requests.Load(), lg.served.Load(), lg.hungUp.Load()
	r.refused = lg.refusals()
	r.freedByHangUp = freedByHangUp(insts)
	r.clientErrs, r.firstClientErrs = lg.errs.get()
	r.backgroundErrs, r.firstBackgroundErrs = b.bgErrs.get()
	r.peaks = tr.peaks()
	if b.outages != nil && b.outages.seen.Load() {
		r.outageSeen, r.outage = true, time.Duration(b.outages.downFor.Load()).Round(100*time.Millisecond)
		r.outageRequests, r.outageServed, r.outageRefused = lg.outageRequests.Load(), lg.outageServed.Load(), lg.outageRefused.Load()
	}
}

// mostAllowed is how many may hold a key of limit at once. While Redis does
// not answer, each instance serves its fallback share of the key on its
// own, beside the holders it had when Redis stopped answering, until their
// leases end.
func (r *result) mostAllowed(limit int) int {
	if r.outageSeen {
		return limit + r.instances*r.fallback
	}
	return limit
}

func (r *result) refusedTotal() int64 {
	var n int64
	for _, c := range r.refused {
		n += c
	}
	return n
}

// problems says what went wrong, if anything: a key held by more than its
// limit at once, a slot still held or a Redis key left at the end, a
// request or a background task that failed (a background task may fail
// while Redis does not answer).
func (r *result) problems() []string {
	var ps []string
	for _, p := range r.peaks {
		if most := r.mostAllowed(p.limit); p.most > most {
			ps = append(ps, fmt.Sprintf("%s was held %d times at once; at most %d may (its limit is %d)", p.key, p.most, most, p.limit))
		}
	}
	for _, l := range r.stillHeld {
		ps = append(ps, fmt.Sprintf("%s is still held %d times after every request ended", l.Key, l.InUse))
	}
	if len(r.keysLeft) > 0 {
		ps = append(ps, fmt.Sprintf("%d Redis keys left behind: %s", len(r.keysLeft), strings.Join(r.keysLeft, " ")))
	}
	if r.clientErrs > 0 {
		ps = append(ps, fmt.Sprintf("%d requests failed, first: %v", r.clientErrs, r.firstClientErrs))
	}
	if r.backgroundErrs > 0 && !r.outageSeen {
		ps = append(ps, fmt.Sprintf("%d background errors, first: %v", r.backgroundErrs, r.firstBackgroundErrs))
	}
	return ps
}

// print writes the summary table to w.
func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "gateway: %d instance(s), slots %s, %v of load from %d clients\n\n",
		r.instances, r.backend, r.duration, r.clients)
	row := func(name string, v any) { fmt.Fprintf(w, "  %-36s %9v\n", name, v) }
	row("requests", r.requests)
	row("served", r.served)
	reasons := slices.Sorted(maps.Keys(r.refused))
	for _, reason := range reasons {
		row("refused: "+reason, r.refused[reason])
	}
	row("hung up mid-stream", r.hungUp)
	row("slots freed by hang-up", r.freedByHangUp)
	row("failed requests", r.clientErrs)
	row("background errors", r.backgroundErrs)
	row("goroutines before / after", fmt.Sprintf("%d / %d", r.goroutinesBefore, r.goroutinesAfter))
	if r.outageSeen {
		fmt.Fprintf(w, "\n  while Redis did not answer (%v in all):\n", r.outage)
		row("requests begun", r.outageRequests)
		row("served", r.outageServed)
		row("refused", r.outageRefused)
	}

	if r.mostAllowed(0) == 0 {
		fmt.Fprintf(w, "\n  %-16s %17s %6s\n", "key", "most held at once", "limit")
		for _, p := range r.peaks {
			fmt.Fprintf(w, "  %-16s %17d %6d\n", p.key, p.most, p.limit)
		}
	} else { // the fallback shares: the check allows more than the limit
		fmt.Fprintf(w, "\n  %-16s %17s %6s %8s\n", "key", "most held at once", "limit", "allowed")
		for _, p := range r.peaks {
			fmt.Fprintf(w, "  %-16s %17d %6d %8d\n", p.key, p.most, p.limit, r.mostAllowed(p.limit))
		}
	}

	fmt.Fprintf(w, "\nstill held at the end: %s\n", orNone(len(r.stillHeld)))
	if r.prefix != "" {
		fmt.Fprintf(w, "Redis keys left under prefix %q: %s\n", r.prefix, orNone(len(r.keysLeft)))
		if r.tombs > 0 {
			fmt.Fprintf(w, "tombstones of acquires that Redis may yet run (…:gone, forgotten within 15 minutes): %d\n", r.tombs)
		}
	}
}

func orNone(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}
