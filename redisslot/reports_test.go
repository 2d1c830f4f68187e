package redisslot

import (
	"errors"
	"strings"
	"testing"
)

// The failures of a round reach OnError once per key and once for the
// pub/sub connection, with their counts and the first of each, however
// many calls failed; a flush with nothing noted since the last reports
// nothing.
func TestTroubleReportsEachKeyAndPubSubOncePerFlush(t *testing.T) {
	var tr trouble
	errSub, errKey := errors.New("test: subscribe failed"), errors.New("test: renew failed")
	for range 5 {
		tr.pubsubFailed(errSub)
		tr.failed("k", errKey)
	}
	tr.pubsubFailed(errors.New("test: publish failed"))
	var got []error
	tr.flush(func(err error) { got = append(got, err) })
	if len(got) != 2 {
		t.Fatalf("one flush after 6 pub/sub and 5 key failures reported %d errors; want 2: %v", len(got), got)
	}
	var pubsub error
	for _, err := range got {
		if strings.Contains(err.Error(), "pub/sub") {
			pubsub = err
		}
	}
	if pubsub == nil || !errors.Is(pubsub, errSub) || !strings.Contains(pubsub.Error(), "6 background calls failed") {
		t.Errorf("pub/sub report = %v; want the count, 6, and the first failure, wrapped", pubsub)
	}
	got = nil
	tr.flush(func(err error) { got = append(got, err) })
	if len(got) != 0 {
		t.Errorf("a second flush with nothing noted reported %v; want nothing", got)
	}
}
