package slotstest

import (
	"fmt"
	"testing"

	"github.com/ctxguard/release/slots"
)

// testLoad holds and waits for several keys through two Limiters and
// checks that Load, through either, counts each key right and answers in
// the order of the keys asked for, and that InUse agrees.
func testLoad(t *testing.T, open OpenWithOptions) {
	const nkeys = 5
	ls := open(t, 2, Options{})
	ctx := t.Context()
	keys := make([]string, nkeys)
	var held []result
	var waiting []<-chan result
	for i := range keys {
		keys[i] = newKey(fmt.Sprint("load", i))
		for j := range i { // key i: i holders
			held = append(held, mustTry(t, ls[j%2], ctx, keys[i], i))
		}
	}
	for j := range 2 { // and key 4: 2 waiters
		waiting = append(waiting, acquireAsync(ls[j], ctx, keys[4], 4))
		loadIs(t, ls[0], keys[4], 4, j+1)
	}
	unknown := newKey("unknown")
	ask := []string{keys[3], unknown, keys[0], keys[4], keys[1], keys[3], keys[2]}
	want := []slots.Load{
		{Key: keys[3], InUse: 3}, {Key: unknown}, {Key: keys[0]},
		{Key: keys[4], InUse: 4, Waiting: 2}, {Key: keys[1], InUse: 1},
		{Key: keys[3], InUse: 3}, {Key: keys[2], InUse: 2},
	}
	for li, l := range ls {
		got, err := l.Load(ctx, ask...)
		if err != nil {
			t.Fatalf("Limiter %d: Load: %v", li, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Limiter %d: Load(%q) =\n%+v\nwant\n%+v", li, ask, got, want)
		}
		for i, key := range keys {
			if n, err := l.InUse(ctx, key); err != nil || n != i {
				t.Errorf("Limiter %d: InUse(%q) = %d, %v; want %d, nil", li, key, n, err, i)
			}
		}
	}
	if got, err := ls[0].Load(ctx); err != nil || len(got) != 0 {
		t.Errorf("Load() = %v, %v; want no loads, nil", got, err)
	}
	for _, r := range held {
		r.rel()
	}
	for _, ch := range waiting {
		recvSlot(t, ch, "waiter of key 4").rel()
	}
	for _, key := range keys {
		loadIs(t, ls[1], key, 0, 0)
	}
}
