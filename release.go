// Package release provides release guards: a function that gives back a
// resource, such as a concurrency slot, exactly once, either when the caller
// is done with it or when a [context.Context] is done, whichever happens first.
//
// An HTTP handler that holds a slot from a limiter frees it on return, and
// also the moment the client hangs up, even if the handler is still busy:
//
//	func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
//		s.slots <- struct{}{}
//		release := release.WrapOnDone(r.Context(), func() { <-s.slots })
//		defer release()
//		// ... work that may outlive the client ...
//	}
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
//   - If release runs first, fn runs on the goroutine that called release. If
//     ctx is done first, fn runs on a goroutine of its own, started by
//     [context.AfterFunc]; an already-done ctx starts it at once, and
//     WrapOnDone returns without waiting for it.
//   - A pending guard holds no goroutine when ctx comes from the context
//     package or delegates to one (a net/http request context does). For
//     another Context implementation, [context.AfterFunc] parks a goroutine
//     that waits for ctx.Done(); release stops that goroutine, which then
//     exits without waiting for ctx.
//   - If ctx can never be done (ctx.Done() returns nil, as for
//     [context.Background] and [context.WithoutCancel]), nothing is
//     registered, and release just runs fn.
//   - The first call of release unregisters the guard from ctx. Once fn has
//     run, neither ctx nor release keeps fn, or anything it captured,
//     reachable.
//   - release is safe for concurrent use by multiple goroutines.
//
// Call release as soon as the guarded resource is no longer needed,
// typically with defer. A guard that is never released holds its resource
// until ctx is done, forever if ctx is never done, and until then ctx keeps
// fn registered.
//
// If fn panics while release runs it, the panic propagates to that caller of
// release; the guard counts as released and later calls do nothing. If fn
// panics on the goroutine that ctx started, the program crashes, as for any
// unrecovered panic in a goroutine. fn must not call its own release: that
// call would wait for fn to return, and so deadlock.
//
// If fn is nil, WrapOnDone returns nil, so a caller may test release != nil.
// WrapOnDone panics if ctx is nil.
func WrapOnDone(ctx context.Context, fn func()) func() {
	if ctx == nil {
		panic("release: WrapOnDone called with a nil Context")
	}
	if fn == nil {
		return nil
	}
	g := &guard{fn: fn}
	release := g.release
	if ctx.Done() == nil {
		return release
	}
	// The same function serves as release and as ctx's callback, so a guard
	// costs one function value. The callback may run before AfterFunc
	// returns; armed tells run whether stop has been stored yet.
	g.stop = context.AfterFunc(ctx, release)
	g.armed.Store(true)
	return release
}

// A guard is the state behind one release function.
type guard struct {
	once  sync.Once
	armed atomic.Bool // stop is set; stored after stop is written
	fn    func()      // nil once fn has run
	stop  func() bool // unregisters the callback from ctx; nil once run
}

func (g *guard) release() { g.once.Do(g.run) }

// run is called at most once, by whichever of release and ctx comes first.
func (g *guard) run() {
	if g.armed.Load() {
		g.stop() // reports false, harmlessly, when ctx started this run
		g.stop = nil
	}
	fn := g.fn
	g.fn = nil
	fn()
}
