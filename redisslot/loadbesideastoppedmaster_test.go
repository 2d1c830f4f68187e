package redisslot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Load reads every key in one pipeline across the masters. With one master
// stopped, the other master's answer is read at once and must stay read:
// go-redis retries the stopped master's call, and when Load's ctx ends in
// the wait before a retry it sets ctx's error on every command of the
// pipeline without one (see answerKept). Load then fails only the stopped
// master's key, and counts the other's holder.
func TestLoadBesideAStoppedMasterCountsTheKeyOfTheMasterThatAnswers(t *testing.T) {
	t.Parallel() // it mostly waits on servers of its own: it runs beside other such tests
	ctx := ctxWithin(t, waitLong)
	a, _, far, near := heldBesideAStoppedMaster(t, ctx, 0)
	// Load's ctx, 2.5s, ends within the third attempt at the stopped master.
	lctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	defer cancel()
	loads, err := a.Load(lctx, far, near)
	if err == nil || !strings.Contains(err.Error(), strconv.Quote(far)) {
		t.Fatalf("Load() error = %v; want one naming %q, whose master is stopped", err, far)
	}
	if strings.Contains(err.Error(), strconv.Quote(near)) {
		t.Errorf("Load() error = %v; want none for %q, whose master answered", err, near)
	}
	if len(loads) != 2 || loads[1].Key != near || loads[1].InUse != 1 {
		t.Errorf("Load() = %+v; want %q counted with its 1 holder", loads, near)
	}
}
