package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
)

// A hotShape is a hot key's limit L and hold h.
type hotShape struct {
	limit int
	hold  time.Duration
}

// hotFigures are one design's figures on one shape, a value per round.
type hotFigures struct {
	served, perSec, util, vsLocal figure
	p50, p99, overtaken           figure
	commands, redisCPU, clientCPU figure
	byName                        commandCounts // calls by command, summed over rounds
	servedTotal                   int64         // acquires served, summed over rounds
}

// A hotRow names a row of the hot-key table: a design on a shape.
type hotRow struct {
	shape  hotShape
	design string
}

// hotTable gathers the hot-key runs of every round.
type hotTable struct {
	rows  []hotRow // in the table's order
	figs  map[hotRow]*hotFigures
	uses  map[string]bool // designs that use Redis
	notes []string
}

func newHotTable(cfg config) *hotTable {
	t := &hotTable{figs: map[hotRow]*hotFigures{}, uses: map[string]bool{}}
	for _, l := range cfg.limits {
		for _, h := range cfg.holds {
			for _, d := range designsFor(l) {
				row := hotRow{hotShape{l, h}, d.name}
				t.rows = append(t.rows, row)
				t.figs[row] = &hotFigures{}
				t.uses[d.name] = d.usesRedis
			}
		}
	}
	return t
}

// record adds one round's results of one shape.
func (t *hotTable) record(round int, s hotShape, results map[string]hotResult) {
	capacity := float64(s.limit) / s.hold.Seconds() // acquires/s of a key always held
	local, haveLocal := results["slots.Local"]
	for _, d := range designsFor(s.limit) {
		name := d.name
		r := results[name]
		f := t.figs[hotRow{s, name}]
		rate := float64(r.served) / r.use.elapsed.Seconds()
		perAcquire := func(total float64) float64 {
			if r.served == 0 {
				return math.NaN()
			}
			return total / float64(r.served)
		}
		f.served.add(float64(r.served))
		f.perSec.add(rate)
		f.util.add(rate / capacity)
		if haveLocal && local.served > 0 {
			f.vsLocal.add(rate / (float64(local.served) / local.use.elapsed.Seconds()))
		}
		f.p50.add(quantile(r.waits, 0.50).Seconds())
		f.p99.add(quantile(r.waits, 0.99).Seconds())
		f.overtaken.add(r.overtaken)
		f.commands.add(perAcquire(float64(r.use.redis.commands)))
		if r.use.redis.byName != nil {
			if f.byName == nil {
				f.byName = commandCounts{}
			}
			for name, n := range *r.use.redis.byName {
				f.byName[name] += n
			}
		}
		f.servedTotal += int64(r.served)
		f.redisCPU.add(perAcquire(r.use.redis.cpu.Seconds()))
		f.clientCPU.add(perAcquire(r.use.client.Seconds()))
		if r.served == 0 {
			t.notes = append(t.notes, fmt.Sprintf("round %d, L=%d h=%v, %s: no acquire served in the measured window", round+1, s.limit, s.hold, name))
		}
		if r.errs != "" {
			t.notes = append(t.notes, fmt.Sprintf("round %d, L=%d h=%v, %s: %s", round+1, s.limit, s.hold, name, r.errs))
		}
	}
}

// write prints the hot-key table.
func (t *hotTable) write(w io.Writer) {
	tb := table{header: []string{"L", "h", "design", "acquires/s", "utilization", "÷ Local",
		"wait p50", "wait p99", "overtaken", "commands inside Redis / acquire",
		"Redis CPU / acquire", "client CPU / acquire"}}
	for _, row := range t.rows {
		f := t.figs[row]
		redisCmds, redisCPU := f.commands.format(count), f.redisCPU.format(duration)
		if !t.uses[row.design] {
			redisCmds, redisCPU = "–", "–"
		}
		tb.add(strconv.Itoa(row.shape.limit), row.shape.hold.String(), row.design,
			f.perSec.format(sig3), f.util.format(ratio), f.vsLocal.format(ratio),
			f.p50.format(duration), f.p99.format(duration), f.overtaken.format(percent),
			redisCmds, redisCPU, f.clientCPU.format(duration))
	}
	tb.write(w)
	writeNotes(w, t.notes)
}

// writeByCommand prints, for each design that uses Redis, each command's
// calls per served acquire over every round, the most frequent first.
func (t *hotTable) writeByCommand(w io.Writer) {
	tb := table{header: []string{"L", "h", "design", "command", "calls / acquire"}}
	for _, row := range t.rows {
		f := t.figs[row]
		if !t.uses[row.design] || f.servedTotal == 0 {
			continue
		}
		names := slices.Collect(maps.Keys(f.byName))
		slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(f.byName[b], f.byName[a]), cmp.Compare(a, b)) })
		var total int64
		for _, name := range names {
			total += f.byName[name]
		}
		for _, name := range append(names, "all") {
			n := total
			if name != "all" {
				n = f.byName[name]
			}
			tb.add(strconv.Itoa(row.shape.limit), row.shape.hold.String(), row.design, name,
				strconv.FormatFloat(float64(n)/float64(f.servedTotal), 'f', 2, 64))
		}
	}
	tb.write(w)
}
