package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ctxguard/release/redisslot"
)

// renewTable gathers, per round, Redis's work per renewal round of many
// slots held by one Limiter, and over as long with nothing held.
type renewTable struct {
	keys                  int
	lease                 time.Duration
	cpu, commands         figure // per renewal round
	restCPU, restCommands figure // per as long, nothing held
	notes                 []string
}

// renewRound measures Redis at rest for cfg.renewRounds renewal intervals
// (Lease/3), then holds one slot of each of cfg.renewKeys keys with one
// Limiter, waits for one renewal round to end (the first may have started
// before every slot was taken), and measures the next cfg.renewRounds
// rounds, from the end of one to the end of the last, as Stats counts them.
func (b *bench) renewRound(ctx context.Context, round int, t *renewTable) (err error) {
	b.step("round %d: renewal of %d slots", round+1, b.cfg.renewKeys)
	k := b.cfg.renewRounds
	rest, err := b.rest(ctx, time.Duration(k)*b.cfg.renewLease/3)
	if err != nil {
		return err
	}
	errs := &errorLog{}
	r := newRedisslot(b.env(errs), redisslot.Options{Lease: b.cfg.renewLease})
	defer func() { errs.add(r.close()); err = firstErr(err, errs, nil) }()
	keys := make([]string, b.cfg.renewKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("renew:%d:%d", round, i)
	}
	releases, err := holdKeys(ctx, r.l, keys)
	if err != nil {
		return err
	}
	defer func() { err = firstErr(err, errs, r.releaseAndSettle(ctx, releases)) }()
	before := r.l.Stats()
	use, err := b.renewals(ctx, r.l, k)
	if err != nil {
		return err
	}
	if after := r.l.Stats(); after.RenewalFailures != before.RenewalFailures || after.LeasesLost != before.LeasesLost {
		t.notes = append(t.notes, fmt.Sprintf("round %d: %d renewal calls failed and %d leases were lost",
			round+1, after.RenewalFailures-before.RenewalFailures, after.LeasesLost-before.LeasesLost))
	}
	t.cpu.add(use.redis.cpu.Seconds() / float64(k))
	t.commands.add(float64(use.redis.commands) / float64(k))
	t.restCPU.add(rest.redis.cpu.Seconds() / float64(k))
	t.restCommands.add(float64(rest.redis.commands) / float64(k))
	return nil
}

// rest returns Redis's work over d while this process sends it nothing.
func (b *bench) rest(ctx context.Context, d time.Duration) (usage, error) {
	s0, err := take(ctx, b.monitor, !withAllocs)
	if err != nil {
		return usage{}, err
	}
	if err := sleep(ctx, d); err != nil {
		return usage{}, err
	}
	s1, err := take(ctx, b.monitor, !withAllocs)
	return s1.since(s0), err
}

// renewals waits for l's next renewal round to end, and returns the work
// from then until k more have ended.
func (b *bench) renewals(ctx context.Context, l *redisslot.Limiter, k int) (usage, error) {
	limit := time.Duration(k+2)*b.cfg.renewLease/3 + settleTimeout
	rounds := func() uint64 { return l.Stats().RenewalRounds }
	first := rounds() + 1
	if err := waitFor(ctx, limit, "a renewal round", func() bool { return rounds() >= first }); err != nil {
		return usage{}, err
	}
	s0, err := take(ctx, b.monitor, !withAllocs)
	if err != nil {
		return usage{}, err
	}
	from := rounds()
	if err := waitFor(ctx, limit, "the renewal rounds", func() bool { return rounds() >= from+uint64(k) }); err != nil {
		return usage{}, err
	}
	s1, err := take(ctx, b.monitor, !withAllocs)
	return s1.since(s0), err
}

// write prints the renewal table.
func (t *renewTable) write(w io.Writer) {
	tb := table{header: []string{"", "Redis CPU", "commands inside Redis"}}
	tb.add(fmt.Sprintf("renewal round of %s slots on as many keys (Lease %v: a round every %v)", grouped(t.keys), t.lease, t.lease/3),
		t.cpu.format(duration), t.commands.format(count))
	tb.add("nothing held, over as long", t.restCPU.format(duration), t.restCommands.format(count))
	tb.write(w)
	writeNotes(w, t.notes)
}
