package redisslot_test

import (
	"strings"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// A renewal call names several keys on a single node; when it fails, each
// of those keys had trouble that round, and OnError hears of each.
func TestFailedRenewalIsReportedForEveryKeyItRenews(t *testing.T) {
	srv := redistest.Start(t)
	f := newFixture(t, srv, redisslot.Options{Lease: longLease})
	ctx := ctxWithTimeout(t)
	for _, key := range []string{"a", "b"} {
		_, rel := mustTry(t, f.l, ctx, key, 1)
		t.Cleanup(rel)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop redis-server: %v", err)
	}
	redisslot.RenewNow(f.l) // one call for both keys, which fails
	for _, key := range []string{"a", "b"} {
		heard := false
		for _, err := range f.errs.all() {
			if strings.Contains(err.Error(), "key \""+key+"\"") && strings.Contains(err.Error(), "renew") {
				heard = true
			}
		}
		if !heard {
			t.Errorf("OnError heard %v; want the failed renewal of key %q", f.errs.all(), key)
		}
	}
}
