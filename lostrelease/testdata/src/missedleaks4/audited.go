package missedleaks4

import (
	"context"

	"github.com/ctxguard/release/slots"
)

// acquireAudited holds its guard in a named result, and drops it when the
// step after the acquire fails: `return nil, err` sets rel to nil.
func acquireAudited(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireAudited:"returnsGuard\\[0\\] 0:\\{1=nil\\}"
	_, rel, err = l.TryAcquire(ctx, "k", 1) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return nil, err
	}
	if err := step(); err != nil {
		return nil, err // want `this return statement may be reached without using the release function rel defined on line 12`
	}
	return rel, nil
}

// acquireAccountSlot is the gateway's helper, with a named release and
// status: the audit's refusal returns statusBackend without the guard.
func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (release func(), st status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, release, err := l.TryAcquire(ctx, "account:"+account, 4) // want `the release function returned by Limiter.TryAcquire is not used on all paths`
	if err != nil {
		return nil, statusOf(err)
	}
	if !healthy(account) {
		return nil, statusBackend // want `this return statement may be reached without using the release function release defined on line 25`
	}
	return release, statusOK
}

// acquireBoth takes the user's slot, then the account's, in named results
// returned bare; a refused account returns nil for both and drops the
// user's slot.
func acquireBoth(ctx context.Context, l slots.Limiter) (relU, relA func(), st status) { // want acquireBoth:"returnsGuard\\[0 1\\] 0:\\{2=0\\} 1:\\{2=0\\}"
	relU, st = acquireUserSlot(ctx, l, "u") // want `the release function returned by acquireUserSlot is not used on all paths`
	if st != statusOK {
		return
	}
	relA, st = acquireUserSlot(ctx, l, "a")
	if st != statusOK {
		return nil, nil, st // want `this return statement may be reached without using the release function relU defined on line 39`
	}
	return
}
