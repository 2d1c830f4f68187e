package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A report is what a run measured, table by table.
type report struct {
	cfg   config
	hot   *hotTable
	ops   *opTable
	load  *loadTable
	renew *renewTable
}

// run parses args, runs every round and prints the tables to stdout, and
// progress to stderr. It stops the redis-server it started before it
// returns, also when ctx ends early.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (_ *report, err error) {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return nil, err
	}
	loadAtStart, began := loadAverage(), time.Now()
	addr := cfg.redisAddr
	if addr == "" {
		srv, err := startServer(ctx, cfg.redisServer)
		if err != nil {
			return nil, err
		}
		defer func() {
			if serr := srv.stop(); err == nil && serr != nil {
				err = fmt.Errorf("peerbench: stop redis-server: %w", serr)
			}
		}()
		addr = srv.addr
	}
	b := &bench{cfg: cfg, addr: addr, prefix: runPrefix(), progress: stderr}
	b.monitor = redis.NewClient(&redis.Options{Addr: addr})
	defer b.monitor.Close()
	version, err := redisVersion(ctx, b.monitor)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "`%s` · %s %s/%s · redis-server %s · GOMAXPROCS %d, %d CPUs · load at start %s\n",
		command(args), runtime.Version(), runtime.GOOS, runtime.GOARCH, version, runtime.GOMAXPROCS(0), runtime.NumCPU(), loadAtStart)
	rep := newReport(cfg)
	for round := range cfg.rounds {
		if err := b.round(ctx, round, rep); err != nil {
			return nil, err
		}
	}
	rep.write(stdout)
	fmt.Fprintf(stdout, "\nLoad at end %s; the run took %v.\n", loadAverage(), time.Since(began).Round(time.Second))
	return rep, nil
}

// round runs every part once, each of its designs interleaved with the
// others of the part.
func (b *bench) round(ctx context.Context, round int, rep *report) error {
	if err := b.hotRound(ctx, round, rep.hot); err != nil {
		return err
	}
	if b.cfg.hotOnly {
		return nil
	}
	if err := b.opRound(ctx, round, rep.ops); err != nil {
		return err
	}
	if err := b.loadRound(ctx, round, rep.load); err != nil {
		return err
	}
	return b.renewRound(ctx, round, rep.renew)
}

func newReport(cfg config) *report {
	return &report{
		cfg:   cfg,
		hot:   newHotTable(cfg),
		ops:   newOpTable(),
		load:  &loadTable{keys: cfg.loadKeys},
		renew: &renewTable{keys: cfg.renewKeys, lease: cfg.renewLease},
	}
}

// write prints every table, under a heading each.
func (r *report) write(w io.Writer) {
	if r.cfg.rounds == 1 {
		fmt.Fprintf(w, "\nEach figure is from one round.\n")
	} else {
		fmt.Fprintf(w, "\nEach figure is the median over %d rounds, with the lowest and highest round in brackets.\n", r.cfg.rounds)
	}
	fmt.Fprintf(w, "\n## Hot key: 4·L callers over two instances (Local: one), %v per design per round\n\n", r.cfg.duration)
	r.hot.write(w)
	if r.cfg.byCommand {
		fmt.Fprintf(w, "\n## Hot key: commands inside Redis per served acquire, by command (INFO commandstats deltas over the measured windows of every round ÷ the acquires served in them)\n\n")
		r.hot.writeByCommand(w)
	}
	if r.cfg.hotOnly {
		return
	}
	fmt.Fprintf(w, "\n## Uncontended: TryAcquire and Acquire alternating, each with its release, back to back\n\n")
	r.ops.write(w)
	fmt.Fprintf(w, "\n## Load of %s keys\n\n", grouped(r.cfg.loadKeys))
	r.load.write(w)
	fmt.Fprintf(w, "\n## Renewal of %s slots held by one Limiter\n\n", grouped(r.cfg.renewKeys))
	r.renew.write(w)
}

// runPrefix returns the prefix of every Redis key of this run: its own, so
// that runs sharing a Redis do not share keys.
func runPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "peerbench:" + hex.EncodeToString(b[:]) + ":"
}

// command returns the command line that reruns this run.
func command(args []string) string {
	parts := []string{"go run ."}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
