package slots_test

import (
	"context"
	"testing"

	"github.com/ctxguard/release/slots"
)

// TestLocalAllocs pins the allocations of a TryAcquire and its release,
// so that a change that costs more shows here. Each count is what the
// slot needs:
//
//   - 1 for the slot, 2 for its context (context.WithCancelCause: the
//     context and its cancel function);
//   - 3 for the release guard (release.WrapOnDoneCause: its state, the
//     release function, and the slot's free method as its fn), and 2 more
//     when ctx can be done (context.AfterFunc: its registration on ctx and
//     the stop function);
//   - 1 for the state of the key, when nobody held or waited for it.
func TestLocalAllocs(t *testing.T) {
	tests := []struct {
		name     string
		ctx      func(t *testing.T) context.Context
		keyHeld  bool
		maxAlloc float64
	}{
		{"BackgroundCtx/FreeKey", func(*testing.T) context.Context { return context.Background() }, false, 7},
		{"BackgroundCtx/HeldKey", func(*testing.T) context.Context { return context.Background() }, true, 6},
		{"CancelableCtx/FreeKey", func(t *testing.T) context.Context { return t.Context() }, false, 9},
		{"CancelableCtx/HeldKey", func(t *testing.T) context.Context { return t.Context() }, true, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := slots.NewLocal(slots.LocalOptions{})
			defer l.Close()
			ctx := tt.ctx(t)
			if tt.keyHeld {
				_, rel, err := l.TryAcquire(ctx, "k", 2)
				if err != nil {
					t.Fatal(err)
				}
				defer rel()
			}
			var err error
			got := testing.AllocsPerRun(1000, func() {
				var rel func()
				if _, rel, err = l.TryAcquire(ctx, "k", 2); err == nil {
					rel()
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if got > tt.maxAlloc {
				t.Errorf("TryAcquire and release: %v allocations; want at most %v", got, tt.maxAlloc)
			}
			t.Logf("%v allocations", got)
		})
	}
}
