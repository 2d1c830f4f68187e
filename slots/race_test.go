package slots_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ctxguard/release/slots"
)

var errHangUp = errors.New("client hung up")

// TestLocalReleaseRacingHangUpFreesOnce frees a slot by its release and
// by its caller's hang-up, round after round, while another caller holds a
// second slot of the key: when both are done, exactly one slot is held,
// and the slot's context names the winner as its cause. Rounds take turns:
// release first, hang-up first, and both at once from two goroutines, so
// that each side wins by construction, and the race is run too (how often
// each side won it is logged, not asserted: no share is promised).
func TestLocalReleaseRacingHangUpFreesOnce(t *testing.T) {
	const rounds = 3000
	l := slots.NewLocal(slots.LocalOptions{})
	defer l.Close()
	_, other, err := l.TryAcquire(context.Background(), "k", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer other()

	wins := map[error]int{}
	for round := range rounds {
		ctx, cancel := context.WithCancelCause(context.Background())
		//lostrelease:ignore every mode of the switch below calls rel
		sctx, rel, err := l.TryAcquire(ctx, "k", 2)
		if err != nil {
			cancel(nil)
			t.Fatalf("round %d: TryAcquire: %v", round, err)
		}
		var want error // nil: either
		switch round % 3 {
		case 0:
			rel()
			cancel(errHangUp)
			want = context.Canceled
		case 1:
			cancel(errHangUp)
			rel()
			want = errHangUp
		case 2:
			start := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() { <-start; rel() })
			wg.Go(func() { <-start; cancel(errHangUp) })
			close(start)
			wg.Wait()
			rel() // the slot is free once a call of release returns
		}
		cause := context.Cause(sctx)
		if cause != context.Canceled && cause != errHangUp || want != nil && cause != want {
			t.Fatalf("round %d: slot's cause %v; want %v", round, cause, want)
		}
		if want == nil {
			wins[cause]++
		}
		cancel(nil) // done already, in every mode
		if n, _ := l.InUse(context.Background(), "k"); n != 1 {
			t.Fatalf("round %d: InUse = %d after the release and the hang-up; want 1, the other holder", round, n)
		}
	}
	t.Logf("of %d races, the release won %d, the hang-up %d", rounds/3, wins[context.Canceled], wins[errHangUp])
}
