package redisslot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A pub/sub failure reaches OnError at once (an idle Limiter runs no
// round to report it), and the next ones within a round interval wait for
// the round's report, with their count. The failures of a round reach
// OnError once per key, however many calls failed; a flush with nothing
// noted since the last reports nothing.
func TestTroubleReportsEachKeyAndPubSubOncePerFlush(t *testing.T) {
	var tr trouble
	var got []error
	report := func(err error) { got = append(got, err) }
	errSub, errPub, errKey := errors.New("test: subscribe failed"), errors.New("test: publish failed"), errors.New("test: renew failed")
	tr.pubsubFailed(errSub, time.Hour, report)
	if len(got) != 1 || !errors.Is(got[0], errSub) {
		t.Fatalf("the first pub/sub failure reported %v; want it at once", got)
	}
	got = nil
	for range 5 {
		tr.pubsubFailed(errPub, time.Hour, report)
		tr.failed("k", errKey)
	}
	if len(got) != 0 {
		t.Fatalf("pub/sub failures within a round interval of the last report reported %v at once; want them kept for the round's report", got)
	}
	tr.flush(report)
	if len(got) != 2 {
		t.Fatalf("one flush after 5 pub/sub and 5 key failures reported %d errors; want 2: %v", len(got), got)
	}
	var pubsub error
	for _, err := range got {
		if strings.Contains(err.Error(), "pub/sub") {
			pubsub = err
		}
	}
	if pubsub == nil || !errors.Is(pubsub, errPub) || !strings.Contains(pubsub.Error(), "5 background calls failed") {
		t.Errorf("pub/sub report = %v; want the count, 5, and the first failure, wrapped", pubsub)
	}
	got = nil
	tr.flush(report)
	if len(got) != 0 {
		t.Errorf("a second flush with nothing noted reported %v; want nothing", got)
	}
}
