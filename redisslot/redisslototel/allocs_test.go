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
	//lostrelease:ignore the Limiter is closed: the call must fail
	refused := func() { _, _, _ = l.TryAcquire(ctx, "user:1", 1) }
	refused() // the class "user" is made here
	if got := testing.AllocsPerRun(100, refused); got != 0 {
		t.Errorf("a refused call recorded by the hook allocates %v times; want 0", got)
	}
}
