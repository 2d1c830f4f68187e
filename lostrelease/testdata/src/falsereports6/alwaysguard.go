package falsereports6

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/ctxguard/release"
)

// tracker counts requests in flight. track always returns a guard, made
// by WrapOnDone with a non-nil fn, so never nil: the caller must release
// it even when track reports an overload.
type tracker struct {
	inflight atomic.Int64
	max      int64
}

var errOverload = errors.New("overloaded")

func (t *tracker) track(ctx context.Context) (func(), error) { // want track:"returnsGuard\\[0\\] 0:\\{1=\\?\\|nil\\} ctxOf\\[0\\]$"
	n := t.inflight.Add(1)
	rel := release.WrapOnDone(ctx, func() { t.inflight.Add(-1) })
	if n > t.max {
		return rel, errOverload
	}
	return rel, nil
}

// Not reported (rule 4, nildefer, which looks only at the Limiters' calls): the release cannot be nil (see track),
// and it must be released on the overload too: deferring it first is the
// right code.
func (t *tracker) serve(ctx context.Context) error {
	rel, err := t.track(ctx)
	defer rel()
	if err != nil {
		return err
	}
	return work(ctx)
}

// trackStatus cannot fail: it returns a WrapOnDone guard with statusOK on
// its one return.
func (t *tracker) trackStatus(ctx context.Context) (func(), status) { // want trackStatus:"returnsGuard\\[0\\] 0:\\{1=0\\} ctxOf\\[0\\]$"
	t.inflight.Add(1)
	return release.WrapOnDone(ctx, func() { t.inflight.Add(-1) }), statusOK
}

// Not reported (rule 4, nildefer, which looks only at the Limiters' calls): trackStatus never returns a nil
// release, so the deferred call cannot panic.
func (t *tracker) serveStatus(ctx context.Context) int {
	rel, st := t.trackStatus(ctx)
	defer rel()
	if st != statusOK {
		return 503
	}
	return 200
}
