package redisslot_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// oldRenewScript is the renewal script before renewals grouped keys: one
// key a call, ZSCORE and ZADD per member, ZRANGE and PEXPIREAT per key. It
// is the baseline of TestRenewalCost.
var oldRenewScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = now + tonumber(ARGV[1])
local lost = {}
local kept = 0
for i = 2, #ARGV do
	local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
	if score and tonumber(score) > now then
		redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
		kept = kept + 1
	else
		lost[#lost + 1] = ARGV[i]
	end
end
if kept > 0 then
	local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
	local last = expiry
	if top[2] and tonumber(top[2]) > last then last = tonumber(top[2]) end
	redis.call('PEXPIREAT', KEYS[1], last)
end
return lost
`)

// roundCost is what one renewal round costs.
type roundCost struct {
	calls  float64 // script calls the client sent
	inside float64 // commands the scripts ran inside Redis
	cpuMs  float64 // Redis's used_cpu_sys + used_cpu_user
}

// TestRenewalCost measures a renewal round of 10,000 slots, on 100 keys and
// on 10,000 keys, before (one call per key) and after (many keys per call),
// in one run. It is slow (it takes 20,000 slots), so it runs only with
// REDISSLOT_COST=1:
//
//	REDISSLOT_COST=1 go test -run TestRenewalCost -v .
func TestRenewalCost(t *testing.T) {
	if os.Getenv("REDISSLOT_COST") != "1" {
		t.Skip("set REDISSLOT_COST=1 to measure")
	}
	const slots, rounds = 10000, 5
	for _, keys := range []int{100, 10000} {
		srv := redistest.Start(t)
		f := newFixture(t, srv, redisslot.Options{Lease: longLease})
		takeSlots(t, f.l, keys, slots)
		raw := srv.Client(t)
		before := measureRounds(t, raw, rounds, oldRound(t, raw, f.l, keys))
		after := measureRounds(t, raw, rounds, func() { redisslot.RenewNow(f.l) })
		for _, c := range []struct {
			name string
			cost roundCost
		}{{"before", before}, {"after", after}} {
			t.Logf("%d slots on %d keys, %s: %.0f script calls sent, %.0f commands run inside Redis, %.1f ms Redis CPU, per round",
				slots, keys, c.name, c.cost.calls, c.cost.inside, c.cost.cpuMs)
		}
		if before.calls < float64(keys) {
			t.Errorf("%d slots on %d keys: the old round sent %.0f script calls; want one a key at least: it did not find the slots", slots, keys, before.calls)
		}
		if after.calls > 100 {
			t.Errorf("%d slots on %d keys: %.0f script calls a round; want at most 100", slots, keys, after.calls)
		}
		if errs := f.errs.all(); len(errs) > 0 {
			t.Errorf("OnError got %v", errs[:1])
		}
	}
}

// takeSlots takes n slots spread evenly over keys keys, from 8 goroutines.
func takeSlots(t *testing.T, l *redisslot.Limiter, keys, n int) {
	t.Helper()
	ctx := ctxWithTimeout(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				_, rel, err := l.TryAcquire(ctx, fmt.Sprint("k", i%keys), n)
				if err != nil {
					t.Errorf("TryAcquire: %v", err)
					return
				}
				abandon(rel) // the fixture's Close frees the slots
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// oldRound returns a round of the old renewer over the keys: one call per
// key (per 500 members), in one pipeline, with the old script. It reads
// the members first, so that the round itself sends only the script calls.
func oldRound(t *testing.T, raw *redis.Client, l *redisslot.Limiter, keys int) func() {
	t.Helper()
	type oldCall struct {
		rkey string
		args []any
	}
	var calls []oldCall
	for k := range keys {
		rkey := redisslot.SlotKey(l, fmt.Sprint("k", k))
		ms := members(t, raw, rkey)
		for i := 0; i < len(ms); i += redisslot.BatchSize {
			args := []any{int64(longLease.Milliseconds())}
			for _, z := range ms[i:min(i+redisslot.BatchSize, len(ms))] {
				args = append(args, z.Member)
			}
			calls = append(calls, oldCall{rkey, args})
		}
	}
	return func() {
		ctx := ctxWithTimeout(t)
		pipe := raw.Pipeline()
		for _, c := range calls {
			oldRenewScript.EvalSha(ctx, pipe, []string{c.rkey}, c.args...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("old renewal round: %v", err)
		}
	}
}

// measureRounds runs round n times and returns its mean cost: script calls
// sent (EVALSHA in INFO commandstats), the other commands Redis ran, all
// of them inside the scripts, and Redis's CPU time.
func measureRounds(t *testing.T, raw *redis.Client, n int, round func()) roundCost {
	t.Helper()
	if err := oldRenewScript.Load(context.Background(), raw).Err(); err != nil {
		t.Fatal(err)
	}
	round() // warm up: NOSCRIPT and first-use costs out of the figures
	stats0, cpu0 := redisStats(t, raw)
	for range n {
		round()
	}
	stats1, cpu1 := redisStats(t, raw)
	var inside float64
	for name, calls := range stats1 {
		if name != "evalsha" && name != "info" {
			inside += calls - stats0[name]
		}
	}
	evalsha := stats1["evalsha"] - stats0["evalsha"]
	return roundCost{calls: evalsha / float64(n), inside: inside / float64(n), cpuMs: (cpu1 - cpu0) * 1000 / float64(n)}
}

// redisStats returns INFO commandstats calls by command, and Redis's CPU
// seconds (used_cpu_sys + used_cpu_user).
func redisStats(t *testing.T, raw *redis.Client) (map[string]float64, float64) {
	t.Helper()
	info, err := raw.Info(context.Background(), "commandstats", "cpu").Result()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]float64{}
	var cpu float64
	for _, line := range strings.Split(info, "\r\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if cmd, found := strings.CutPrefix(name, "cmdstat_"); found {
			field, _, _ := strings.Cut(rest, ",")
			v, _ := strconv.ParseFloat(strings.TrimPrefix(field, "calls="), 64)
			calls[cmd] = v
		}
		if name == "used_cpu_sys" || name == "used_cpu_user" {
			v, _ := strconv.ParseFloat(rest, 64)
			cpu += v
		}
	}
	return calls, cpu
}
