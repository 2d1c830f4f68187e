package slots_test

import (
	"context"
	"runtime"
	"strconv"
	"testing"

	"github.com/ctxguard/release/slots"
)

// heapAlloc returns the bytes of live heap objects after two collections.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestLocalForgetsFreedKeys takes one slot of each of 200,000 keys, in
// rounds of 50,000 held at once, and frees them: the heap must come back
// to where it was, within 256 KiB. Keeping the state of freed keys costs
// megabytes (their entries and keyStates), and so does keeping the room
// of a table that held 50,000 keys, which a Go map does not give back by
// deleting: both are caught. The test checks that holding the keys grew
// the heap by far more than the bound, so that it measures something.
func TestLocalForgetsFreedKeys(t *testing.T) {
	const (
		nkeys  = 200_000
		rounds = 4
		bound  = 256 << 10
	)
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	rels := make([]func(), nkeys/rounds)
	l := slots.NewLocal(slots.LocalOptions{})
	ctx := context.Background()
	_, rel, _ := l.TryAcquire(ctx, "warm-up", 1)
	rel()

	before := heapAlloc()
	var held uint64
	for r := range rounds {
		for i, key := range keys[r*len(rels) : (r+1)*len(rels)] {
			_, rel, err := l.TryAcquire(ctx, key, 1)
			if err != nil {
				t.Fatalf("TryAcquire(%q): %v", key, err)
			}
			rels[i] = rel
		}
		if r == 0 {
			held = heapAlloc()
		}
		for i, rel := range rels {
			rel()
			rels[i] = nil
		}
	}
	after := heapAlloc()
	runtime.KeepAlive(l) // l must be live at the measure, or it measures nothing
	runtime.KeepAlive(keys)

	t.Logf("heap: %d B before, %d B with %d keys held, %d B after %d keys were freed", before, held, len(rels), after, nkeys)
	if grown := int64(held) - int64(before); grown < 8*bound {
		t.Fatalf("holding %d keys grew the heap by %d B; want far more than the bound %d B", len(rels), grown, bound)
	}
	if after > before+bound {
		t.Errorf("after %d keys were taken and freed, the heap is %d B larger than before; want at most %d B", nkeys, after-before, bound)
	}
}
