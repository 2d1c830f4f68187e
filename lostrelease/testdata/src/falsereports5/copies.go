package falsereports5

import (
	"context"
	"errors"

	"github.com/ctxguard/release/slots"
)

// Named statuses set once from the call's error, on every path to where
// they are read, stand for it as a local copy does.

func classify(err error) status { // want classify:"isPredicate maps:0=nil,1=!nil,2=!nil"
	switch {
	case err == nil:
		return statusOK
	case errors.Is(err, slots.ErrFull):
		return statusFull
	}
	return statusBackend
}

// acquireClassified sets its named status from a status map of the error.
func acquireClassified(ctx context.Context, l slots.Limiter) (release func(), st status) { // want acquireClassified:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, release, err := l.TryAcquire(ctx, "k", 1)
	st = classify(err)
	if st != statusOK {
		return nil, st
	}
	return
}

// acquireGranted sets its named bool from a condition on the error.
func acquireGranted(ctx context.Context, l slots.Limiter) (release func(), ok bool) { // want acquireGranted:"returnsGuard\\[0\\] 0:\\{1=true\\}"
	_, release, err := l.TryAcquire(ctx, "k", 1)
	ok = err == nil
	if !ok {
		return nil, false
	}
	return
}

// acquireAnyGranted sets its named bool in each round of a loop, before
// reading it.
func acquireAnyGranted(ctx context.Context, l slots.Limiter, accts []string) (release func(), ok bool) { // want acquireAnyGranted:"returnsGuard\\[0\\]"
	for _, a := range accts {
		var err error
		_, release, err = l.TryAcquire(ctx, a, 1)
		ok = err == nil
		if ok {
			return
		}
	}
	return nil, false
}
