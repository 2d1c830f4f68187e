package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks, once every test has ended, that no goroutine is left:
// the run must close every client, Limiter and Locker it opened, and reap
// the redis-server it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// quickRunLimit is the hang guard of a quick run, which takes seconds.
const quickRunLimit = 60 * time.Second

// A quick run against a real redis-server prints every table, and each
// figure of every round is sane: every design served acquires, utilization
// is above 0 and at most 1.1, and the command counts of the designs whose
// commands are known are exactly those.
func TestQuickRunPrintsEveryTableWithSaneFigures(t *testing.T) {
	requireRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), quickRunLimit)
	defer cancel()
	var out, progress bytes.Buffer
	rep, err := run(ctx, []string{"-quick", "-rounds", "2", "-duration", "300ms"}, &out, &progress)
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	for _, want := range []string{
		"`go run . -quick -rounds 2 -duration 300ms`", "redis-server ", "load at start ",
		"## Hot key", "## Uncontended", "## Load of 100 keys", "## Renewal of 1,000 slots",
		"| slots.Local ", "| bsm/redislock ", "| rueidislock ", "| two no-op EVALSHA (floor) ",
		"| redisslot Load of 100 keys ", "| renewal round of 1,000 slots", "Load at end ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, out.String())
		}
	}
	checkHot(t, rep.hot)
	checkOps(t, rep.ops)
	checkLoadAndRenewal(t, rep.load, rep.renew)
	if t.Failed() {
		t.Logf("output:\n%s", out.String())
	}
}

// requireRedisServer skips the test when redis-server is not installed,
// unless REDISSLOT_REQUIRE_REDIS is set (as CI sets it): then it fails.
func requireRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("REDISSLOT_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server: %v", err)
		}
		t.Skipf("redis-server not installed: %v", err)
	}
}

func checkHot(t *testing.T, h *hotTable) {
	t.Helper()
	if len(h.rows) != 5 {
		t.Errorf("hot key at L=1, one hold: %d rows; want 5 designs", len(h.rows))
	}
	noted := make(map[string]bool) // the notes the checks below expect
	for _, row := range h.rows {
		f := h.figs[row]
		for i := range f.served {
			if f.served[i] < 1 {
				// On a loaded machine a design may serve nothing in a short
				// window: the run must say so, and has no figures to check.
				note := fmt.Sprintf("round %d, L=%d h=%v, %s: no acquire served in the measured window", i+1, row.shape.limit, row.shape.hold, row.design)
				if !slices.Contains(h.notes, note) {
					t.Errorf("%s round %d served %v acquires, and the run does not say so; want some, or the note %q", row.design, i+1, f.served[i], note)
				}
				noted[note] = true
				continue
			}
			if u := f.util[i]; !(u > 0 && u <= 1.1) {
				t.Errorf("%s round %d utilization %v; want in (0, 1.1]", row.design, i+1, u)
			}
			if s := f.overtaken[i]; !(s >= 0 && s <= 1) {
				t.Errorf("%s round %d overtaken %v; want in [0, 1]", row.design, i+1, s)
			}
			if f.p50[i] > f.p99[i] {
				t.Errorf("%s round %d wait p50 %v above p99 %v", row.design, i+1, f.p50[i], f.p99[i])
			}
			if c := f.commands[i]; h.uses[row.design] && !(c >= 2) {
				t.Errorf("%s round %d: %v commands inside Redis per acquire; want at least 2", row.design, i+1, c)
			}
		}
	}
	for _, n := range h.notes {
		if !noted[n] {
			t.Errorf("hot key note: %s", n)
		}
	}
}

// checkOps checks the uncontended figures: the hand-written design runs
// exactly 6 commands per op, the floor exactly 2.
func checkOps(t *testing.T, o *opTable) {
	t.Helper()
	exact := map[string]float64{"hand-written": 6, "two no-op EVALSHA (floor)": 2}
	for _, name := range o.names {
		f := o.figs[name]
		for i := range f.commands {
			if want, ok := exact[name]; ok && math.Abs(f.commands[i]-want) > 0.01 {
				t.Errorf("uncontended %s round %d: %v commands inside Redis per op; want %v", name, i+1, f.commands[i], want)
			}
			if f.p50[i] <= 0 || f.redisCPU[i] <= 0 || f.allocs[i] <= 0 {
				t.Errorf("uncontended %s round %d: p50 %v, Redis CPU %v, allocations %v; want each above 0",
					name, i+1, f.p50[i], f.redisCPU[i], f.allocs[i])
			}
		}
	}
}

func checkLoadAndRenewal(t *testing.T, l *loadTable, r *renewTable) {
	t.Helper()
	for i := range l.ratio {
		if !(l.load[i] > 0 && l.noops[i] > 0) {
			t.Errorf("Load round %d: Load %v s, no-op pipeline %v s; want both above 0", i+1, l.load[i], l.noops[i])
		}
	}
	for i := range r.commands {
		// At least one script call per 500 slots, and not a command for
		// nothing held: nothing else sends commands while it measures.
		if r.commands[i] < 2 || r.cpu[i] <= 0 || r.restCommands[i] != 0 {
			t.Errorf("renewal round %d: %v commands and %v s of Redis CPU per round, %v at rest; want some, and none at rest",
				i+1, r.commands[i], r.cpu[i], r.restCommands[i])
		}
	}
	for _, n := range r.notes {
		t.Errorf("renewal note: %s", n)
	}
}
