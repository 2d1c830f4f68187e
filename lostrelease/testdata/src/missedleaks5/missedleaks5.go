// Package missedleaks5 holds wrong code that the analyzer does not
// report: each case says what is wrong. A missed case has no expectation
// on its line; a fix should add one.
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

// Missed (rule 3): the slot is taken on a ctx that the deferred cancel
// ends as the function returns, and handed to the caller through the
// named result rel: the caller holds a slot already freed. Only a local
// variable of the body, or the call itself, is followed to the return.
func (g *gateway) acquireNamed(ctx context.Context, acct string) (rel func(), err error) { // want acquireNamed:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, rel, err = g.accounts.Acquire(ctx, acct, 4)
	return rel, err
}

// Missed (rule 3): the same, returned bare.
func (g *gateway) acquireNamedBare(ctx context.Context, acct string) (rel func(), err error) { // want acquireNamedBare:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, rel, err = g.accounts.Acquire(ctx, acct, 4)
	return
}

// Missed (rule 3): the same through a helper that takes its slot on its
// ctx parameter.
func (g *gateway) acquireNamedHelper(ctx context.Context, acct string) (rel func(), err error) { // want acquireNamedHelper:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rel, err = g.accountSlot(ctx, acct)
	return rel, err
}

// userSlot takes its slot on its ctx parameter too, but declares its
// release with var first: the guard variable is then assigned twice, and
// the helper gets no ctxOf.
func (g *gateway) userSlot(ctx context.Context, user string) (func(), error) { // want userSlot:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	var rel func()
	var err error
	_, rel, err = g.users.TryAcquire(ctx, user, 1)
	return rel, err
}

// Missed (rule 3): the slot userSlot takes on the short ctx is freed as
// the function returns.
func (g *gateway) acquireUserShort(parent context.Context, user string) (func(), error) { // want acquireUserShort:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	wctx, cancel := context.WithTimeout(parent, time.Second)
	defer cancel()
	rel, err := g.userSlot(wctx, user)
	return rel, err
}

// inflightGuard makes its guard on its ctx parameter with WrapOnDone, held
// in a variable assigned once by a single-valued :=; it gets no ctxOf
// (only a variable assigned from a call of several results is followed).
func inflightGuard(ctx context.Context, sem chan struct{}) (func(), error) { // want inflightGuard:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	sem <- struct{}{}
	rel := release.WrapOnDone(ctx, func() { <-sem })
	if err := ctx.Err(); err != nil {
		rel()
		return nil, err
	}
	return rel, nil
}

// Missed (rule 3): the guard inflightGuard makes on the short ctx fires
// as the function returns, and frees the semaphore slot the caller thinks
// it holds.
func enterShort(ctx context.Context, sem chan struct{}) (func(), error) { // want enterShort:"returnsGuard\\[0\\] 0:\\{1=nil\\}$"
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	rel, err := inflightGuard(ctx, sem)
	return rel, err
}

// Missed (rule 4): the error is discarded and the release deferred at
// once: when the key is full the release is nil and the deferred call
// panics as the function returns. The nil-defer check looks only at a
// status the caller keeps, and here there is none.
func (g *gateway) holdIgnoringErr(ctx context.Context) {
	_, rel, _ := g.accounts.TryAcquire(ctx, "k", 1)
	defer rel()
}
