// Package missedleaks5 holds wrong code in a gateway's shapes, each
// reported: a slot taken on a short ctx and handed on through a named
// result, a helper that declares its release first or makes it with one
// value, a release deferred with its error discarded, test helpers whose
// release is not registered with t.Cleanup on every path, and a slot
// taken and released under a condition on an element that changes or
// under a flag whose value at the call is not known.
package missedleaks5

import (
	"context"
	"time"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

type gateway struct {
	accounts slots.Limiter
	users    slots.Limiter
}

// accountSlot takes its slot on its ctx parameter.
func (g *gateway) accountSlot(ctx context.Context, acct string) (func(), error) { // want accountSlot:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	_, rel, err := g.accounts.TryAcquire(ctx, acct, 4)
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// Reported (rule 3): the slot is taken on a ctx that the deferred cancel
// ends as the function returns, and handed to the caller through the
// named result rel: the caller holds a slot already freed.
func (g *gateway) acquireNamed(ctx context.Context, acct string) (rel func(), err error) { // want acquireNamed:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, rel, err = g.accounts.Acquire(ctx, acct, 4) // want `the guard's ctx is cancelled by the deferred cancel when gateway.acquireNamed returns: it fires then`
	return rel, err
}

// Reported (rule 3): the same, returned bare.
func (g *gateway) acquireNamedBare(ctx context.Context, acct string) (rel func(), err error) { // want acquireNamedBare:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, rel, err = g.accounts.Acquire(ctx, acct, 4) // want `the guard's ctx is cancelled by the deferred cancel when gateway.acquireNamedBare returns: it fires then`
	return
}

// Reported (rule 3): the same through a helper that takes its slot on its
// ctx parameter.
func (g *gateway) acquireNamedHelper(ctx context.Context, acct string) (rel func(), err error) { // want acquireNamedHelper:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rel, err = g.accountSlot(ctx, acct) // want `the guard's ctx is cancelled by the deferred cancel when gateway.acquireNamedHelper returns: it fires then`
	return rel, err
}

// userSlot takes its slot on its ctx parameter too, and declares its
// release with var first: the declaration without a value does not count.
func (g *gateway) userSlot(ctx context.Context, user string) (func(), error) { // want userSlot:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	var rel func()
	var err error
	_, rel, err = g.users.TryAcquire(ctx, user, 1)
	return rel, err
}

// Reported (rule 3): the slot userSlot takes on the short ctx is freed as
// the function returns.
func (g *gateway) acquireUserShort(parent context.Context, user string) (func(), error) { // want acquireUserShort:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	wctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	rel, err := g.userSlot(wctx, user) // want `the guard's ctx is cancelled by the deferred cancel when gateway.acquireUserShort returns: it fires then`
	return rel, err
}

// inflightGuard makes its guard on its ctx parameter with WrapOnDone, held
// in a variable assigned once by a single-valued :=.
func inflightGuard(ctx context.Context, sem chan struct{}) (func(), error) { // want inflightGuard:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\]$"
	sem <- struct{}{}
	rel := release.WrapOnDone(ctx, func() { <-sem })
	if err := ctx.Err(); err != nil {
		rel()
		return nil, err
	}
	return rel, nil
}

// Reported (rule 3): the guard inflightGuard makes on the short ctx fires
// as the function returns, and frees the semaphore slot the caller thinks
// it holds.
func enterShort(ctx context.Context, sem chan struct{}) (func(), error) { // want enterShort:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rel, err := inflightGuard(ctx, sem) // want `the guard's ctx is cancelled by the deferred cancel when enterShort returns: it fires then`
	return rel, err
}

// Reported (rule 4): the error is discarded and the release deferred at
// once: when the key is full the release is nil and the deferred call
// panics as the function returns.
func (g *gateway) holdIgnoringErr(ctx context.Context) {
	_, rel, _ := g.accounts.TryAcquire(ctx, "k", 1)
	defer rel() // want `rel is nil when Limiter.TryAcquire fails: deferred before the call's result is checked, it panics then`
}
