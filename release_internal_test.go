package release

import (
	"context"
	"testing"
)

// TestRegisterDropsStopWhenRunCameFirst covers the ordering that a test
// from outside can reach only by chance: ctx's callback runs the guard,
// and so unregisters it, before register has stored stop. register must
// then drop stop, which would keep ctx reachable from the release.
func TestRegisterDropsStopWhenRunCameFirst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r registration
	r.unregister() // as run does, on ctx's goroutine
	r.register(ctx, func() {})
	if r.stop != nil {
		t.Fatal("register kept stop after run had unregistered; want it dropped")
	}
	if got := r.state.Load(); got != ranFirst {
		t.Fatalf("state = %d after run came first; want ranFirst (%d)", got, ranFirst)
	}
}

// TestUnregisterStopsAnArmedRegistration covers the usual ordering: register
// stores stop, and run then removes the registration from ctx and drops it.
func TestUnregisterStopsAnArmedRegistration(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var r registration
	r.register(ctx, func() {})
	if r.stop == nil || r.state.Load() != armed {
		t.Fatal("register did not arm the registration")
	}
	r.unregister()
	if r.stop != nil {
		t.Fatal("unregister kept stop; want it dropped")
	}
}
