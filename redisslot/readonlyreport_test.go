package redisslot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// Background failures are reported without flooding: a round answered
// READONLY runs again, 10ms apart, up to once per connection its client
// had open, and those runs are one round's work for the report: each key
// whose renewals they failed is reported once, as the runs end, not once
// per run.
func TestRoundsRunAgainAfterReadOnlyReportEachKeyOnce(t *testing.T) {
	srv, empty := redistest.Start(t), redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease}) // rounds 20s apart
	warmUp(t, f.l)
	ctx := ctxWithTimeout(t)
	const keys = 5
	for i := range keys {
		_, rel := mustTry(t, f.l, ctx, fmt.Sprint("k", i), 1)
		defer rel()
	}
	holdConns(t, f.client, 4)           // the round runs again once per connection and once more
	srv.ReplicaOf(t, empty, empty.Addr) // demoted under its address
	rounds := f.l.Stats().RenewalRounds
	redisslot.RoundSoon(f.l) // the renewer's own round, answered READONLY
	var reruns int64
	eventually(t, "the round answered READONLY, its runs again, and their report", func() bool {
		reruns = redisslot.ReadOnlyReruns(f.l)
		if reruns == 0 || f.l.Stats().RenewalRounds < rounds+1+uint64(reruns) {
			return false
		}
		for i := range keys { // reported one by one, in no order
			if reported(f.errs, fmt.Sprint("k", i)) == 0 {
				return false
			}
		}
		return true
	})
	for i := range keys {
		key := fmt.Sprint("k", i)
		if n := reported(f.errs, key); n != 1 {
			t.Errorf("OnError heard of %q %d times after a round answered READONLY and its %d runs again; want once (OnError got %v)", key, n, reruns, f.errs.all())
		}
	}
}

// reported counts the reports in errs that name key.
func reported(errs *errLog, key string) int {
	n := 0
	for _, err := range errs.all() {
		if strings.Contains(err.Error(), fmt.Sprintf("key %q", key)) {
			n++
		}
	}
	return n
}
