// Package panics checks that a call of a source with a nil ctx, where the
// source panics on one, returns no guard: WrapOnDone and WrapOnDoneCause,
// slots.Limiter's TryAcquire and Acquire, and a function or method whose
// body opens with `if ctx == nil { panic(...) }`. A function literal that
// a test runs to see it panic, made of such a call, needs no comment. A
// nil is the literal nil or a local variable declared without a value and
// never assigned; a call on another argument, or with a ctx that may not
// be nil, is checked as ever.
package panics

import (
	"context"
	"errors"
	"testing"

	"github.com/ctxguard/release"
	"github.com/ctxguard/release/slots"
)

type Pool struct{}

func (p *Pool) Get(ctx context.Context, key string) (func(), error) { // want Get:"returnsGuard\\[0\\] 0:\\{1=nil\\} ctxOf\\[0\\] panicsIfNil\\[0\\]$"
	if ctx == nil {
		panic("panics: Get called with a nil Context")
	}
	if key == "" {
		return nil, errors.New("panics: empty key")
	}
	return release.WrapOnDone(ctx, func() {}), nil
}

func Take(key string, ctx context.Context) func() { // want Take:"returnsGuard\\[0\\] ctxOf\\[1\\] panicsIfNil\\[1\\]$"
	if ctx == nil || key == "" {
		panic("panics: bad Take")
	}
	if key == "nil" {
		panic("panics: nil key")
	}
	return release.WrapOnDone(ctx, func() {})
}

// Not panicsIfNil: the check comes after another statement, does not
// panic, or tests a parameter the function assigns.

func late(ctx context.Context) func() { // want late:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	_ = ctx.Value("k")
	if ctx == nil {
		panic("panics: nil Context")
	}
	return release.WrapOnDone(ctx, func() {})
}

func returnsInstead(ctx context.Context) func() { // want returnsInstead:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	if ctx == nil {
		return nil
	}
	return release.WrapOnDone(ctx, func() {})
}

func logsFirst(ctx context.Context) func() { // want logsFirst:"returnsGuard\\[0\\] ctxOf\\[0\\]$"
	if ctx == nil {
		println("nil")
		panic("panics: nil Context")
	}
	return release.WrapOnDone(ctx, func() {})
}

func reassigned(ctx context.Context) func() { // want reassigned:"returnsGuard\\[0\\]$"
	if ctx == nil {
		panic("panics: nil Context")
	}
	ctx = context.WithoutCancel(ctx)
	return release.WrapOnDone(ctx, func() {})
}

// panicked reports whether f panicked.
func panicked(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

// Not reported.

func TestMisuse(t *testing.T) {
	var nilCtx context.Context
	var l slots.Limiter
	p := &Pool{}
	cases := map[string]func(){
		"WrapOnDone":      func() { release.WrapOnDone(nil, func() {}) },
		"WrapOnDoneCause": func() { release.WrapOnDoneCause(nilCtx, func(error) {}) },
		"TryAcquire":      func() { l.TryAcquire(nilCtx, "k", 1) },
		"Acquire":         func() { _, _, _ = l.Acquire(nil, "k", 1) },
		"Get":             func() { p.Get(nilCtx, "k") },
		"Take":            func() { _ = Take("k", nil) },
	}
	for name, f := range cases {
		if !panicked(f) {
			t.Errorf("%s did not panic", name)
		}
	}
	for _, c := range []struct {
		name string
		call func()
	}{
		{"WrapOnDone", func() { release.WrapOnDone(nil, nil) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() { _ = recover() }()
			c.call()
		})
	}
}

// Reported.

func TestNotNil(t *testing.T) {
	ctx := context.Background()
	var assigned, addressed context.Context
	assigned = ctx
	_ = &addressed
	var l slots.Limiter
	p := &Pool{}
	cases := map[string]func(){
		"assigned":   func() { l.TryAcquire(assigned, "k", 1) },  // want `returned by Limiter.TryAcquire is discarded`
		"addressed":  func() { l.TryAcquire(addressed, "k", 1) }, // want `returned by Limiter.TryAcquire is discarded`
		"empty key":  func() { p.Get(ctx, "") },                  // want `returned by Pool.Get is discarded`
		"Take empty": func() { Take("", ctx) },                   // want `returned by Take is discarded`
		"late":       func() { late(nil) },                       // want `returned by late is discarded`
		"returns":    func() { returnsInstead(nil) },             // want `returned by returnsInstead is discarded`
		"logs":       func() { logsFirst(nil) },                  // want `returned by logsFirst is discarded`
		"assigns":    func() { reassigned(nil) },                 // want `returned by reassigned is discarded`
	}
	for name, f := range cases {
		if !panicked(f) {
			t.Errorf("%s did not panic", name)
		}
	}
}
