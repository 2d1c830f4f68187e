package main

import (
	"context"
	"fmt"
	"io"
)

// opFigures are one uncontended design's figures, a value per round.
type opFigures struct {
	p50, commands, redisCPU, vsHand, allocs figure
}

// opTable gathers the uncontended runs of every round.
type opTable struct {
	names []string
	figs  map[string]*opFigures
}

func newOpTable() *opTable {
	t := &opTable{figs: map[string]*opFigures{}}
	for _, d := range opDesigns() {
		t.names = append(t.names, d.name)
		t.figs[d.name] = &opFigures{}
	}
	return t
}

// opRound runs each uncontended design once, starting with a different one
// each round.
func (b *bench) opRound(ctx context.Context, round int, t *opTable) error {
	ds := opDesigns()
	results := map[string]opResult{}
	for i := range ds {
		d := ds[(i+round)%len(ds)]
		b.step("round %d: uncontended: %s", round+1, d.name)
		r, err := b.runOps(ctx, d, fmt.Sprintf("ops:%d", round))
		if err != nil {
			return fmt.Errorf("uncontended, %s: %w", d.name, err)
		}
		results[d.name] = r
	}
	hand := results["hand-written"]
	handCPU := hand.use.redis.cpu.Seconds() / float64(hand.ops)
	for name, r := range results {
		f, n := t.figs[name], float64(r.ops)
		f.p50.add(quantile(r.lats, 0.5).Seconds())
		f.commands.add(float64(r.use.redis.commands) / n)
		f.redisCPU.add(r.use.redis.cpu.Seconds() / n)
		f.vsHand.add(r.use.redis.cpu.Seconds() / n / handCPU)
		f.allocs.add(float64(r.use.mallocs) / n)
	}
	return nil
}

// write prints the uncontended table.
func (t *opTable) write(w io.Writer) {
	tb := table{header: []string{"design", "p50", "commands inside Redis / op",
		"Redis CPU / op", "Redis CPU ÷ hand-written", "allocations / op"}}
	for _, name := range t.names {
		f := t.figs[name]
		tb.add(name, f.p50.format(duration), f.commands.format(count),
			f.redisCPU.format(duration), f.vsHand.format(times), f.allocs.format(count))
	}
	tb.write(w)
}
