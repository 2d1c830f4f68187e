// Package release provides release guards: a function that gives back a
// resource, such as a concurrency slot, exactly once, either when the caller
// is done with it or when a [context.Context] is done, whichever happens first.
//
// An HTTP handler that holds a slot from a limiter frees it on return, and
// also the moment the client hangs up, even if the handler is still busy:
//
//	func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		s.slots <- struct{}{}
//		free := release.WrapOnDone(r.Context(), func() { <-s.slots })
//		defer free()
//		// ... work that may outlive the client ...
//	}
//
// [WrapOnDoneCause] does the same and tells fn why it ran: nil for a call of
// the release function, or [context.Cause] when ctx was done first.
//
// A guard that is never released holds its resource until ctx is done. The
// vet analyzer github.com/ctxguard/release/lostrelease reports release
// functions that are discarded or not used on every path.
package release

import (
	"context"
	"sync"
	"sync/atomic"
)

// WrapOnDone returns a release function that runs fn exactly once: on the
// first call of release, or when ctx is done, whichever happens first.
//
// Guarantees:
//
//   - fn runs at most once, and exactly once if release is called or ctx is
//     done. Calls of release after the first, from any goroutine, do nothing.
//   - When a call of release returns, fn has returned, even if ctx started fn
//     on another goroutine a moment earlier: release then waits for it, as
//     [sync.Once.Do] does. (A bare [context.AfterFunc] stop does not wait.)
//   - When ctx's end starts fn before any call of release, fn runs on a
//     goroutine of its own, started by [context.AfterFunc]; an already-done
//     ctx starts it at once, and WrapOnDone returns without waiting for it.
//     Otherwise fn runs on the goroutine of the first call of release: when
//     release comes first, and also when ctx is done but has not yet
//     started fn.
//   - A pending guard holds no goroutine when ctx.Done() is the channel of a
//     cancelable context from the context package (ctx is one, or wraps one
//     without replacing Done, as [context.WithValue] and a net/http request
//     context do), or when ctx has an AfterFunc(func()) func() bool method
//     of its own, which [context.AfterFunc] calls. For any other Context,
//     [context.AfterFunc] parks a goroutine that waits for ctx.Done();
//     release stops that goroutine, which then exits without waiting for ctx.
//   - If ctx can never be done (ctx.Done() returns nil, as for
//     [context.Background] and [context.WithoutCancel]), nothing is
//     registered, and release just runs fn.
//   - The first call of release unregisters the guard from ctx, before fn
//     runs. Once fn has run, or has panicked, neither ctx nor release keeps
//     fn, or anything it captured, reachable; nor does release keep ctx
//     reachable.
//   - release is safe for concurrent use by multiple goroutines.
//
// Call release as soon as the guarded resource is no longer needed,
// typically with defer. A guard that is never released holds its resource
// until ctx is done, forever if ctx is never done, and until then ctx keeps
// fn registered.
//
// If fn panics while release runs it, the panic propagates to that caller of
// release; the guard counts as released and later calls do nothing. The same
// holds if fn calls [runtime.Goexit]. If fn panics on the goroutine that ctx
// started, the program crashes, as for any unrecovered panic in a goroutine.
// fn must not call its own release: that call would wait for fn to return,
// and so deadlock.
//
// WrapOnDone panics if ctx is nil, whatever fn is. Otherwise, if fn is nil,
// it returns nil, so a caller may test release != nil.
func WrapOnDone(ctx context.Context, fn func()) func() {
	if ctx == nil {
		panic("release: WrapOnDone called with a nil Context")
	}
	if fn == nil {
		return nil
	}
	g := &guard{fn: fn}
	release := g.release
	if ctx.Done() != nil { // else never done: nothing to register
		g.register(ctx, release)
	}
	return release
}

// WrapOnDoneCause is [WrapOnDone] for an fn that needs to know why it ran.
// It keeps every guarantee of WrapOnDone, and fn receives:
//
//   - nil if a call of release ran fn while ctx was not yet done;
//   - [context.Cause](ctx) if ctx was done first: if ctx.Err() returned
//     non-nil before a call of release, fn receives the cause, never nil,
//     whether ctx or that call runs fn. The cause is ctx.Err() unless ctx
//     is, or wraps, a context-package context ended with a cause.
//
// When release and ctx's end race, fn receives one or the other. For a ctx
// that can never be done, fn always receives nil.
//
// The guard holds ctx until fn has run, and not after.
//
// WrapOnDoneCause panics if ctx is nil, whatever fn is. Otherwise, if fn is
// nil, it returns nil.
func WrapOnDoneCause(ctx context.Context, fn func(cause error)) func() {
	if ctx == nil {
		panic("release: WrapOnDoneCause called with a nil Context")
	}
	if fn == nil {
		return nil
	}
	g := &causeGuard{ctx: ctx, fn: fn}
	release := g.release
	if ctx.Done() != nil { // else never done: nothing to register
		g.register(ctx, release)
	}
	return release
}

// States of a registration.
const (
	registering = iota // context.AfterFunc may not have returned; stop is unset
	armed              // stop is set
	ranFirst           // run came before armed; register drops stop itself
)

// A registration ties a guard to its ctx. Its once runs the guard's run
// method at most once, for release or for ctx, whichever comes first.
type registration struct {
	once  sync.Once
	state atomic.Uint32
	stop  func() bool // unregisters from ctx; nil unless armed and not yet run
}

// register arranges for f, the guard's release, to run when ctx is done;
// ctx.Done() must not be nil. The callback may run before context.AfterFunc
// returns (ctx already done, or done at that moment); state tells the two
// sides apart, so that stop, which holds ctx, is never kept once the guard
// has run.
func (r *registration) register(ctx context.Context, f func()) {
	r.stop = context.AfterFunc(ctx, f)
	if !r.state.CompareAndSwap(registering, armed) {
		r.stop = nil // ctx has run f, and its registration is gone
	}
}

// unregister removes the registration from ctx, if there is one. It is
// called once, by run.
func (r *registration) unregister() {
	if r.state.CompareAndSwap(registering, ranFirst) {
		return // nothing registered, or register will drop stop
	}
	r.stop() // reports false, harmlessly, when ctx started this run
	r.stop = nil
}

// A guard is the state behind one release function of WrapOnDone.
type guard struct {
	registration
	fn func() // nil once fn has started
}

func (g *guard) release() { g.once.Do(g.run) }

// run is called at most once, by whichever of release and ctx comes first.
func (g *guard) run() {
	g.unregister()
	fn := g.fn
	g.fn = nil
	fn()
}

// A causeGuard is the state behind one release function of WrapOnDoneCause.
type causeGuard struct {
	registration
	ctx context.Context // nil once fn has started
	fn  func(error)     // nil once fn has started
}

func (g *causeGuard) release() { g.once.Do(g.run) }

// run is called at most once, by whichever of release and ctx comes first.
func (g *causeGuard) run() {
	g.unregister()
	ctx, fn := g.ctx, g.fn
	g.ctx, g.fn = nil, nil
	var cause error
	if ctx.Err() != nil {
		cause = context.Cause(ctx)
	}
	fn(cause)
}
