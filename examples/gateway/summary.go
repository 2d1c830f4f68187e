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

	peaks     []peak       // most holders at once, per key
	stillHeld []slots.Load // keys held once every request had ended
	keysLeft  []string     // Redis keys left under prefix at the end

	goroutinesBefore, goroutinesAfter int
}

func (r *result) collect(lg *loadgen, insts []*instance, tr *tracker, b *backend) {
	r.requests, r.served, r.hungUp = lg.requests.Load(), lg.served.Load(), lg.hungUp.Load()
	r.refused = lg.refusals()
	r.freedByHangUp = freedByHangUp(insts)
	r.clientErrs, r.firstClientErrs = lg.errs.get()
	r.backgroundErrs, r.firstBackgroundErrs = b.bgErrs.get()
	r.peaks = tr.peaks()
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
// request or a background task that failed.
func (r *result) problems() []string {
	var ps []string
	for _, p := range r.peaks {
		if p.most > p.limit {
			ps = append(ps, fmt.Sprintf("%s was held %d times at once; its limit is %d", p.key, p.most, p.limit))
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
	if r.backgroundErrs > 0 {
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

	fmt.Fprintf(w, "\n  %-16s %17s %6s\n", "key", "most held at once", "limit")
	for _, p := range r.peaks {
		fmt.Fprintf(w, "  %-16s %17d %6d\n", p.key, p.most, p.limit)
	}

	fmt.Fprintf(w, "\nstill held at the end: %s\n", orNone(len(r.stillHeld)))
	if r.prefix != "" {
		fmt.Fprintf(w, "Redis keys left under prefix %q: %s\n", r.prefix, orNone(len(r.keysLeft)))
	}
}

func orNone(n int) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprint(n)
}
