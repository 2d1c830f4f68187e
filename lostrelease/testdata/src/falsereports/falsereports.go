// Package falsereports holds correct code in the gateway's shapes: every
// guard is released on every path, so nothing here may be reported.
package falsereports

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ctxguard/release/slots"
)

type status uint8

const (
	statusOK status = iota
	statusFull
	statusBackendError
)

func statusOf(err error) status { // want statusOf:"isPredicate maps:1=!nil,2=!$"
	if errors.Is(err, slots.ErrFull) {
		return statusFull
	}
	return statusBackendError
}

func step() error { return nil }

func acquireAccountSlot(ctx context.Context, l slots.Limiter, account string) (func(), status) { // want acquireAccountSlot:"returnsGuard\\[0\\] 0:\\{1=0\\}"
	_, rel, err := l.TryAcquire(ctx, account, 4)
	if err != nil {
		return nil, statusOf(err)
	}
	return rel, statusOK
}

// finish runs fn, then release.
func finish(fn func() error, release func()) error {
	defer release()
	return fn()
}

// failoverHandsClosureOn tries each account; the slot it gets is freed by
// releaseSlot, called on failure and handed to finish on success.
func failoverHandsClosureOn(ctx context.Context, l slots.Limiter, accounts []string) error {
	var rel func()
	releaseSlot := func() {
		if rel != nil {
			rel()
			rel = nil
		}
	}
	for _, a := range accounts {
		var st status
		rel, st = acquireAccountSlot(ctx, l, a)
		if st != statusOK {
			continue
		}
		if err := step(); err != nil {
			releaseSlot()
			continue
		}
		return finish(step, releaseSlot)
	}
	return errors.New("no account has a free slot")
}

// cooldown holds the slot for d after the work is done.
func cooldown(ctx context.Context, l slots.Limiter, d time.Duration) error {
	var rel func()
	releaseSlot := func() {
		if rel != nil {
			rel()
		}
	}
	var st status
	rel, st = acquireAccountSlot(ctx, l, "a")
	if st != statusOK {
		return errors.New("refused")
	}
	err := step()
	time.AfterFunc(d, releaseSlot)
	return err
}

var limiter slots.Limiter

// testCleanupFirst registers the release before it takes the slot.
func testCleanupFirst(t *testing.T) {
	var rel func()
	t.Cleanup(func() {
		if rel != nil {
			rel()
		}
	})
	var err error
	_, rel, err = limiter.TryAcquire(context.Background(), "k", 1)
	if err != nil {
		t.Fatal(err)
	}
}
