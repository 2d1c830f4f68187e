package redisslot_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ctxguard/release/redisslot"
	"github.com/ctxguard/release/redisslot/internal/redistest"
)

// An answer to a call sent before the fallback state began tells nothing of
// Redis now: Redis answered it before the link was cut, and the reply
// reached the Limiter after a later call had failed. It must not end the
// state while Redis is still cut off: the state would end, and begin again
// at the next failure, the lines moving to Redis and back. Here a try of a
// full key is answered, and its answer held in a hook, while the proxy
// before Redis freezes and another call fails; the answer then goes on.
func TestAnswerToACallSentBeforeTheFallbackStateBeganDoesNotEndIt(t *testing.T) {
	srv := redistest.Start(t)
	p := redistest.NewProxy(t, srv.Addr)
	errs := &errLog{}
	var l *redisslot.Limiter
	hook, answered, let := holdFirstAnswer(t, func() string { return redisslot.SlotKey(l, "full") })
	l = fbLimiter(t, srv, p.Addr, errs, hook)
	t.Cleanup(let)    // before l's Close, which waits for the held call
	t.Cleanup(p.Thaw) // before l's Close
	ctx := ctxWithTimeout(t)
	other := redisslot.New(srv.Client(t), redisslot.Options{Prefix: testPrefix(t), Lease: fbLease})
	t.Cleanup(func() { _ = other.Close() })
	_, rel := mustTry(t, other, ctx, "full", 1) // straight to Redis: l's try is refused
	defer rel()

	tried := make(chan error, 1)
	go func() {
		_, rel, err := l.TryAcquire(ctx, "full", 1)
		if rel != nil {
			rel()
		}
		tried <- err
	}()
	recv(t, answered, waitLong, "the try of the full key answered")
	p.Freeze()
	_, rel2, err := l.TryAcquire(ctx, "k", fbLimit) // fails, and the state begins: the share serves it
	if err != nil {
		t.Fatalf("TryAcquire with Redis cut off = %v; want a slot of the share", err)
	}
	rel2() // never offered to Redis: nothing left to send
	if !redisslot.FallbackOn(l) {
		t.Fatalf("the fallback state is off after a call failed unreachable; want it on (OnError: %v)", errs.all())
	}
	changes := redisslot.HealthChanges(l)
	let()
	if err := recv(t, tried, waitLong, "the held try returns"); !errors.Is(err, redisslot.ErrFull) {
		t.Fatalf("the held try of the full key = %v; want ErrFull", err)
	}
	// The try noted its answer before it returned. Had it counted, Redis
	// would be back; a probe failing meanwhile could begin the state again
	// before the round that ends it, and hide the flap from the look below.
	if got := redisslot.HealthChanges(l); got != changes {
		t.Fatalf("Redis found down or back %d times at an answer to a call sent before it was found down; want none (OnError: %v)", got-changes, errs.all())
	}
	quietFor(t, 20, 50*time.Millisecond, func() string {
		if !redisslot.FallbackOn(l) {
			return fmt.Sprintf("the fallback state ended at an answer to a call sent before it began, Redis still cut off; want it on (OnError: %v)", errs.all())
		}
		return ""
	})
}
