package lostrelease

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// A checker holds what one pass knows about guard sources.
type checker struct {
	pass  *analysis.Pass
	local map[*types.Func]*returnsGuard // facts of this package's helpers
	// predicates holds the facts of this package's status predicates.
	predicates map[*types.Func]*isPredicate
	// fails holds this package's functions with a failsEveryPath fact.
	fails   map[*types.Func]bool
	ignores map[lineKey]string // ignore comments by line: their reasons
	// nilVars holds the local variables that are always nil (see
	// [checker.isNil]); made when first needed.
	nilVars map[*types.Var]bool
	// paths and holds are the path search and the guards held of the
	// function checkFunc checked last, or nil (see [checker.returnsReached]).
	paths *pathSearch
	holds []*heldGuard
}

// A source is a call that returns one or more guards.
type source struct {
	call    *ast.CallExpr
	name    string // WrapOnDone, or the helper's name
	results []int  // indexes of the guard results
	n       int    // number of results
	sig     *types.Signature
	while   [][]valueSet // per guard result, what each result holds while that guard may be non-nil
	// nilIfNil holds, per guard result, the index of the argument whose
	// nil makes that guard nil, or -1; it may be nil.
	nilIfNil []int
	// ctxOf holds, per guard result, the index of the argument that guard
	// is made on as its ctx, or -1; it may be nil.
	ctxOf []int
}

// sourceOf returns the source e is, or nil if e is not a call that returns
// a guard: a call whose guards are all nil by their arguments (see
// [checker.nilByArgs]), or that panics by them (see
// [checker.panicsByArgs]), is none.
func (c *checker) sourceOf(e ast.Expr) *source {
	call, fn, fact := c.guardCall(e)
	if fact == nil || c.nilByArgs(call, fact) || c.panicsByArgs(call, fact) {
		return nil
	}
	return c.newSource(call, fn, fact)
}

// guardCall returns, if e is a call of a function or known interface method
// that returns a guard, the call, the function and its fact.
func (c *checker) guardCall(e ast.Expr) (*ast.CallExpr, *types.Func, *returnsGuard) {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return nil, nil, nil
	}
	fn := typeutil.StaticCallee(c.pass.TypesInfo, call)
	if fn == nil {
		fn, fact := c.interfaceMethod(call)
		return call, fn, fact
	}
	if fn.Pkg() == nil {
		return nil, nil, nil
	}
	fn = fn.Origin()
	var fact *returnsGuard
	switch {
	case fn.Pkg().Path() == releasePkg && fn.Signature().Recv() == nil &&
		(fn.Name() == "WrapOnDone" || fn.Name() == "WrapOnDoneCause"):
		// A nil fn gives a nil guard, and a nil ctx a panic, as release.go
		// documents.
		fact = &returnsGuard{Results: []int{0}, While: [][]valueSet{{{}}}, NilIfNil: []int{1},
			CtxOf: []int{0}, PanicsIfNil: []int{0}}
	case fn.Pkg().Path() == slotsPkg && fn.Signature().Recv() == nil && fn.Name() == "AcquireWithin":
		// Shaped and documented as a Limiter's Acquire, its slot made on
		// its ctx, which its guard, a closure, does not show.
		fact = limiterFact()
	case fn.Pkg() == c.pass.Pkg:
		fact = c.local[fn]
	default:
		var f returnsGuard
		if c.pass.ImportObjectFact(fn, &f) {
			fact = &f
		}
	}
	return call, fn, fact
}

// nilByArgs reports whether every guard that call returns is nil, by fact:
// the argument that each guard's nil follows is a literal nil
// (`release.WrapOnDone(ctx, nil)`, `wrap(ctx, nil)`).
func (c *checker) nilByArgs(call *ast.CallExpr, fact *returnsGuard) bool {
	if len(fact.NilIfNil) != len(fact.Results) || !c.argsAreParams(call) {
		return false
	}
	for _, p := range fact.NilIfNil {
		if p < 0 || p >= len(call.Args) || !c.pass.TypesInfo.Types[call.Args[p]].IsNil() {
			return false
		}
	}
	return true
}

// newSource returns the source that call, a call of fn, is by fact, or nil
// if fact does not fit fn's results.
func (*checker) newSource(call *ast.CallExpr, fn *types.Func, fact *returnsGuard) *source {
	sig := fn.Signature()
	if !fact.fits(sig.Results().Len()) {
		return nil
	}
	return &source{call: call, name: funcName(fn), results: fact.Results, n: sig.Results().Len(), sig: sig,
		while: fact.While, nilIfNil: fact.NilIfNil, ctxOf: fact.CtxOf}
}

// funcName returns fn's name, with its receiver's type name for a method:
// acquire, Limiter.TryAcquire.
func funcName(fn *types.Func) string {
	if recv := fn.Signature().Recv(); recv != nil {
		t := recv.Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := types.Unalias(t).(*types.Named); ok {
			return n.Obj().Name() + "." + fn.Name()
		}
	}
	return fn.Name()
}

// eachGuard calls f for each left-hand side of lhs = rhs that receives a
// guard, with the guard's source and the index of its result.
func (c *checker) eachGuard(lhs, rhs []ast.Expr, f func(lhs ast.Expr, src *source, result int)) {
	switch {
	case len(lhs) == len(rhs):
		for i, e := range rhs {
			if src := c.sourceOf(e); src != nil && src.n == 1 {
				f(lhs[i], src, 0)
			}
		}
	case len(rhs) == 1:
		if src := c.sourceOf(rhs[0]); src != nil && src.n == len(lhs) {
			for _, i := range src.results {
				f(lhs[i], src, i)
			}
		}
	}
}

// identExprs returns ids as expressions.
func identExprs(ids []*ast.Ident) []ast.Expr {
	es := make([]ast.Expr, len(ids))
	for i, id := range ids {
		es[i] = id
	}
	return es
}

// argsAreParams reports whether the arguments of call are its callee's
// parameters one for one: not a call with ..., nor of a method expression,
// whose receiver comes first among the arguments.
func (c *checker) argsAreParams(call *ast.CallExpr) bool {
	if call.Ellipsis.IsValid() {
		return false
	}
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		if s := c.pass.TypesInfo.Selections[sel]; s != nil && s.Kind() == types.MethodExpr {
			return false
		}
	}
	return true
}
