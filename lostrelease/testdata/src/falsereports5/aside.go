package falsereports5

import (
	"context"
	"fmt"

	"github.com/ctxguard/release/slots"
)

// acquireWrapped wraps its error in a deferred closure, which assigns the
// named result err after the return: err is no status of the guard, and
// the named results are not checked in the function.
func acquireWrapped(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireWrapped:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	defer func() {
		if err != nil {
			err = fmt.Errorf("acquire: %w", err)
		}
	}()
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// acquireAnnotated wraps its error through its address.
func acquireAnnotated(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireAnnotated:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	defer annotate(&err, "acquire")
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		return nil, err
	}
	return rel, nil
}

func annotate(err *error, op string) {
	if *err != nil {
		*err = fmt.Errorf("%s: %w", op, *err)
	}
}

// acquireDegraded defers a pointer method on its named status, which may
// change it after the return.
func acquireDegraded(ctx context.Context, l slots.Limiter, draining bool) (rel func(), st status) { // want acquireDegraded:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	defer st.degrade(draining)
	rel, st = acquireAccountSlot(ctx, l, "a")
	if st != statusOK {
		return nil, st
	}
	return rel, statusOK
}

func (s *status) degrade(draining bool) {
	if draining {
		*s = statusBackend
	}
}

// acquireLogged's literal, called on the failure path, assigns the named
// result err: err is no status of the guard, and the named results are
// not checked in the function. Correct all the same: err is not nil on
// the refusal, where rel is nil.
func acquireLogged(ctx context.Context, l slots.Limiter) (rel func(), err error) { // want acquireLogged:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	wrap := func() { err = fmt.Errorf("acquire: %w", err) }
	_, rel, err = l.TryAcquire(ctx, "k", 1)
	if err != nil {
		wrap()
		return nil, err
	}
	return rel, nil
}
