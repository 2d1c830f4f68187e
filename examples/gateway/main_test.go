package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig is the command's configuration with a second of load, kept on
// (within a generous cap) until a request was served, one refused and one
// cut by a hang-up that freed its slots. The default configuration makes all three happen by construction:
// four clients per user against two slots and one place in line, three users'
// six slots per account against four, one client in four hanging up after its
// first few chunks.
// The progress lines go to t's log.
func testConfig(t *testing.T) config {
	cfg := defaultConfig()
	cfg.Duration = time.Second
	cfg.Cover = 20 * time.Second
	cfg.Progress = logWriter{t}
	return cfg
}

// logWriter writes to t's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// checkClean fails t unless the run ended without error, no key was ever
// held beyond its limit, nothing was held or left in Redis at the end, and
// requests were served, refused, and cut by hang-ups that freed their slots.
func checkClean(t *testing.T, res *result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, p := range res.problems() {
		t.Errorf("problem: %s", p)
	}
	if res.served == 0 || res.refusedTotal() == 0 || res.hungUp == 0 {
		t.Errorf("served %d, refused %d, hung up %d; want each above 0", res.served, res.refusedTotal(), res.hungUp)
	}
	// Each stream cut by a hang-up held a user's slot and an account's.
	if res.freedByHangUp == 0 || res.freedByHangUp > 2*res.hungUp {
		t.Errorf("%d slots freed by hang-up for %d hang-ups; want 1 to 2 per hang-up", res.freedByHangUp, res.hungUp)
	}
	if want := len(defaultConfig().keys()); len(res.peaks) != want {
		t.Errorf("peaks of %d keys; want %d", len(res.peaks), want)
	}
	t.Logf("requests %d, served %d, refused %v, hung up %d, slots freed by hang-up %d",
		res.requests, res.served, res.refused, res.hungUp, res.freedByHangUp)
}

func TestRunInProcessIsClean(t *testing.T) {
	res, err := run(t.Context(), testConfig(t))
	checkClean(t, res, err)
}

// Left in Redis after the run are at most tombstones (…:gone), each
// forgotten within a Lease and 15 minutes: a client that hangs up while its
// acquire is on its way leaves one, for the acquire Redis may yet run.
func TestRunOnRedisIsCleanAndLeavesOnlyTombstones(t *testing.T) {
	addr := startRedis(t)
	cfg := testConfig(t)
	cfg.Redis = addr
	res, err := run(t.Context(), cfg)
	checkClean(t, res, err)
	if res.instances != redisInstances {
		t.Errorf("%d instances; want %d", res.instances, redisInstances)
	}

	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), redisCallTimeout)
	defer cancel()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS after the run: %v", err)
	}
	if others, _ := withoutTombstones(keys); len(others) > 0 {
		t.Errorf("keys left after the run: %q; want none but tombstones (…:gone)", others)
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, ":gone") {
			continue
		}
		if ttl, err := c.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > 16*time.Minute {
			t.Errorf("tombstones %q: PTTL %v, %v; want them forgotten within 16 minutes", k, ttl, err)
		}
	}
}

func TestConfigAllowsOnlyLoopbackListen(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:0", true},
		{"127.0.0.1:8080", true},
		{"[::1]:0", true},
		{"localhost:0", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.0.2.1:8080", false},
		{"127.0.0.1", false},
	} {
		cfg := defaultConfig()
		cfg.Listen = tc.listen
		if err := cfg.check(); (err == nil) != tc.ok {
			t.Errorf("config with Listen %q: check() = %v; want ok %v", tc.listen, err, tc.ok)
		}
	}
}

// outageAfter is when, into a run, the tests of an outage kill Redis; they
// start it again, empty, outageFor later (GATEWAY_OUTAGE, a duration, sets
// it), and the run goes on for outageAfter after that.
const outageAfter = time.Second

func outageFor(t *testing.T) time.Duration {
	d := 1500 * time.Millisecond
	if s := os.Getenv("GATEWAY_OUTAGE"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			t.Fatalf("GATEWAY_OUTAGE=%q: want a positive duration", s)
		}
	}
	return d
}

// The run goes on through a Redis outage: Redis is killed mid-run and
// started again, empty, on the same port. Without a fallback share, the
// requests begun while Redis was away are refused; with one slot of each
// key per instance (two instances, whose shares sum to no more than any
// limit), most are served. Either way no key is held beyond its limit,
// and nothing is held or left in Redis at the end.
func TestRunThroughARedisOutage(t *testing.T) {
	served := map[int]float64{}
	for _, fallback := range []int{0, 1} {
		t.Run(fmt.Sprintf("fallback %d", fallback), func(t *testing.T) {
			srv := startRedisServer(t)
			cfg := testConfig(t)
			down := outageFor(t)
			cfg.Redis, cfg.Fallback, cfg.Duration = srv.addr, fallback, 2*outageAfter+down
			outage := make(chan struct{})
			var back atomic.Int64 // UnixNano when Redis answered again
			go func() {
				defer close(outage)
				time.Sleep(outageAfter) // the run's timeline, not a wait for a condition
				srv.kill()
				time.Sleep(down)
				srv.start()
				back.Store(time.Now().UnixNano())
			}()
			// However slowly a loaded machine starts Redis again, the load
			// goes on for outageAfter after it answers.
			cfg.CoverAlso = func() bool {
				b := back.Load()
				return b != 0 && time.Since(time.Unix(0, b)) >= outageAfter
			}
			res, err := run(t.Context(), cfg)
			<-outage
			checkClean(t, res, err)
			if !res.outageSeen || res.outageRequests == 0 {
				t.Fatalf("no request began while Redis was away (seen %v)", res.outageSeen)
			}
			var summary strings.Builder
			res.print(&summary)
			if allowed := strings.Contains(summary.String(), "allowed"); allowed != (fallback > 0) {
				t.Errorf("summary with a fallback share of %d shows an allowed column: %v; want it only with a share:\n%s", fallback, allowed, summary.String())
			}
			served[fallback] = float64(res.outageServed) / float64(res.outageRequests)
			t.Logf("while Redis was away (%v): %d requests, %d served, %d refused",
				res.outage, res.outageRequests, res.outageServed, res.outageRefused)
		})
	}
	if served[1] <= served[0] || served[1] == 0 {
		t.Errorf("served while Redis was away: %.0f%% with a fallback share, %.0f%% without; want more with it",
			100*served[1], 100*served[0])
	}
}
