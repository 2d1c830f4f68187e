package falsereports8

import (
	"context"

	"github.com/ctxguard/release/slots"
)

type config struct{ accountLimit int }

type gateway struct {
	cfg      config
	accounts slots.Limiter
}

// Not reported: limited, a local assigned once where it is declared and
// never again, holds the same wherever it is tested, as a parameter never
// assigned does: the slot is taken and released under the same condition.
func (g *gateway) serveConfigured(ctx context.Context, acct string) error {
	limited := g.cfg.accountLimit > 0
	var rel func()
	var err error
	if limited {
		_, rel, err = g.accounts.TryAcquire(ctx, acct, g.cfg.accountLimit)
		if err != nil {
			return err
		}
	}
	err = work(ctx)
	if limited {
		rel()
	}
	return err
}

// Not reported: the same through skip, a bool copy of a parameter never
// assigned.
func (g *gateway) serveUnlessSkipped(ctx context.Context, acct string, limited bool) error {
	skip := !limited
	var rel func()
	var err error
	if !skip {
		_, rel, err = g.accounts.TryAcquire(ctx, acct, 4)
		if err != nil {
			return err
		}
	}
	err = work(ctx)
	if skip {
		return err
	}
	rel()
	return err
}

type plan int

const (
	planFree plan = iota
	planPro
)

// Not reported: the slot is taken in the case planFree of a switch on p,
// a parameter never assigned, and released under p == planFree.
func (g *gateway) servePlan(ctx context.Context, acct string, p plan) error {
	var rel func()
	var err error
	switch p {
	case planFree:
		_, rel, err = g.accounts.TryAcquire(ctx, acct, 1)
		if err != nil {
			return err
		}
	}
	err = work(ctx)
	if p == planFree {
		rel()
	}
	return err
}
