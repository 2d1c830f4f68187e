package redisslototel_test

import (
	"context"
	"testing"
)

// Recording a call allocates nothing: the attribute sets of each class are
// made once, when the class is first seen.
func TestRecordingAllocatesNothing(t *testing.T) {
	l, _ := closedLimiter(t)
	ctx := context.Background()
	refused := func() { // the Limiter is closed: the call fails
		if _, rel, err := l.TryAcquire(ctx, "user:1", 1); err == nil {
			rel()
		}
	}
	refused() // the class "user" is made here
	if got := testing.AllocsPerRun(100, refused); got != 0 {
		t.Errorf("a refused call recorded by the hook allocates %v times; want 0", got)
	}
}
