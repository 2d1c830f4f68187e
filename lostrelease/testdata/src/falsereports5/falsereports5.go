// Package falsereports5 holds correct code that keeps its guard in a named
// result: returned bare, returned by name, passed through a helper,
// released by a deferred closure, released then set to nil, set in a loop,
// and the gateway's acquireAccountSlot with a named release and status.
// Nothing may be reported.
package falsereports5

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
	statusBackend
)

func step() error { return nil }

func healthy(string) bool { return true }

// acquireAccountSlot is the gateway's helper: a named release and a
// status set in a switch, returned bare.
func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (release func(), st status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, release, err := l.TryAcquire(ctx, "account:"+account, 4)
	switch {
	case err == nil:
		st = statusOK
	case errors.Is(err, slots.ErrFull):
		st = statusFull
	default:
		st = statusBackend
	}
	return
}

// acquireAudited gives its slot back, and sets the named result to nil
// only after calling it, when the audit refuses.
func acquireAudited(ctx context.Context, l slots.Limiter, account string) (release func(), st status) { // want acquireAudited:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	release, st = acquireAccountSlot(ctx, l, account)
	if st != statusOK {
		return nil, st
	}
	if !healthy(account) {
		release()
		release = nil
		return nil, statusBackend
	}
	return
}

// acquireBare returns its named results bare on every path.
func acquireBare(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireBare:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return
	}
	if err = step(); err != nil {
		rel()
		rel = nil
		return
	}
	return
}

// acquireNamed returns its named result by name.
func acquireNamed(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireNamed:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// acquireThrough holds the guard of another helper in its named result
// and hands it to its caller.
func acquireThrough(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireThrough:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	rel, err = acquireNamed(ctx, l)
	if err != nil {
		return nil, err
	}
	if err = step(); err != nil {
		rel()
		return nil, err
	}
	return rel, nil
}

// acquireCopied copies a local guard to its named result, returned bare.
func acquireCopied(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireCopied:"returnsGuard\\[0\\]"
	r, err := acquireBare(ctx, l)
	if err != nil {
		return nil, err
	}
	rel = r
	return
}

func caller(ctx context.Context, l slots.Limiter) error {
	rel, err := acquireCopied(ctx, l)
	if err != nil {
		return err
	}
	defer rel()
	rel2, st := acquireAudited(ctx, l, "a")
	if st != statusOK {
		return errors.New("refused")
	}
	defer rel2()
	return step()
}
