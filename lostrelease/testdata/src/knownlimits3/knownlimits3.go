// Package knownlimits3 holds leaks of doc.go's known limits that the
// analyzer does not report: a slot taken on a ctx that a cancel deferred
// by the same function ends, handed on in a slice built by append, through
// a copy, or with the timed ctx made by a helper of one's own; and a test
// helper's second slot stored through the address of the release it
// registered with t.Cleanup.
package knownlimits3

import (
	"context"
	"errors"
	"time"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

type status int

const (
	statusOK status = iota
	statusFull
)

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, "acct:"+account, 4)
	if errors.Is(err, slots.ErrFull) || err != nil {
		return nil, statusFull
	}
	return rel, statusOK
}

type handler struct {
	l       slots.Limiter
	timeout time.Duration
}

// A slice built by append.
func acquireAllWithin(ctx context.Context, l slots.Limiter, keys []string) ([]func(), error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var rels []func()
	for _, k := range keys {
		_, rel, err := l.Acquire(ctx, k, 1)
		if err != nil {
			for _, r := range rels {
				r()
			}
			return nil, err
		}
		rels = append(rels, rel)
	}
	return rels, nil
}

// A copy.
func acquireCopyWithin(ctx context.Context, l slots.Limiter) (func(), error) { // want acquireCopyWithin:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, rel, err := l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	held := rel
	return held, nil
}

// withTimeout is the handler's own form of context.WithTimeout: it returns
// that call's results as they are.
func (h *handler) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, h.timeout)
}

// The timed ctx made through the handler's helper.
func (h *handler) accountSlot(ctx context.Context, acct string) (func(), status) { // want accountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}$"
	ctx, cancel := h.withTimeout(ctx)
	defer cancel()
	return acquireAccountSlot(ctx, h.l, acct)
}

// Not reported (a leak): wrapped again on the parent ctx: the wrap releases the slot when the
// request's ctx ends, but the Limiter has freed it when the timed ctx did.
func (h *handler) accountSlotOnRequest(ctx context.Context, acct string) (func(), status) { // want accountSlotOnRequest:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	rel, st := acquireAccountSlot(tctx, h.l, acct)
	if st != statusOK {
		return nil, st
	}
	return release.WrapOnDone(ctx, rel), statusOK
}

// Worded as an overwrite (a body with a goto is not read for the words):
// a goto that jumps forward to the end of the loop's body, as a continue
// does, comes back to the assignment through the declaration, which makes
// a new rel.
func accountsGotoNext(ctx context.Context, l slots.Limiter, accts []string) {
	for _, a := range accts {
		var rel func()
		var st status
		rel, st = acquireAccountSlot(ctx, l, a) // want `the release function returned by acquireAccountSlot is not used on all paths`
		if a == "skip" {
			goto next // want `this goto statement may lead to line [0-9]+, which overwrites the release function rel defined on line [0-9]+ before it is used`
		}
		if st == statusOK {
			rel()
		}
	next:
	}
}

// A slotResult is a status as a struct.
type slotResult struct{ granted bool }

func acquireResult(ctx context.Context, l slots.Limiter, key string) (func(), slotResult) { // want acquireResult:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	_, rel, err := l.TryAcquire(ctx, key, 1)
	if err != nil {
		return nil, slotResult{}
	}
	return rel, slotResult{granted: true}
}

// Not reported: the timed slot handed on under a struct status's field,
// which the paths do not read; they stop at its branch.
func (h *handler) grantedResult(ctx context.Context) (func(), slotResult) { // want grantedResult:"returnsGuard\\[0\\]$"
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	rel, res := acquireResult(tctx, h.l, "acct")
	if res.granted {
		return rel, res
	}
	if rel != nil {
		rel()
	}
	return nil, res
}
