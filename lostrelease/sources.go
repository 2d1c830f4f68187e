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
	ignores    map[lineKey]string // ignore comments by line: their reasons
}

// A source is a call that returns one or more guards.
type source struct {
	call    *ast.CallExpr
	name    string // WrapOnDone, or the helper's name
	results []int  // indexes of the guard results
	n       int    // number of results
	sig     *types.Signature
	while   [][]valueSet // per guard result, what each result holds while that guard may be non-nil
}

// sourceOf returns the source e is, or nil if e is not a call that returns
// a guard.
func (c *checker) sourceOf(e ast.Expr) *source {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return nil
	}
	fn := typeutil.StaticCallee(c.pass.TypesInfo, call)
	if fn == nil {
		if fn, fact := c.interfaceMethod(call); fact != nil {
			return c.newSource(call, fn, fact)
		}
		return nil
	}
	if fn.Pkg() == nil {
		return nil
	}
	fn = fn.Origin()
	sig := fn.Signature()
	var fact *returnsGuard
	switch {
	case fn.Pkg().Path() == releasePkg && sig.Recv() == nil &&
		(fn.Name() == "WrapOnDone" || fn.Name() == "WrapOnDoneCause"):
		if nilFn(c.pass.TypesInfo, call) {
			return nil // a nil fn gives a nil guard
		}
		fact = &returnsGuard{Results: []int{0}, While: [][]valueSet{{{}}}}
	case fn.Pkg() == c.pass.Pkg:
		fact = c.local[fn]
	default:
		var f returnsGuard
		if c.pass.ImportObjectFact(fn, &f) {
			fact = &f
		}
	}
	if fact == nil {
		return nil
	}
	return c.newSource(call, fn, fact)
}

// newSource returns the source that call, a call of fn, is by fact, or nil
// if fact does not fit fn's results.
func (*checker) newSource(call *ast.CallExpr, fn *types.Func, fact *returnsGuard) *source {
	sig := fn.Signature()
	if !fact.fits(sig.Results().Len()) {
		return nil
	}
	return &source{call: call, name: funcName(fn), results: fact.Results, n: sig.Results().Len(), sig: sig, while: fact.While}
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

// nilFn reports whether call, a call of WrapOnDone or WrapOnDoneCause,
// passes a literal nil fn: then it returns nil.
func nilFn(info *types.Info, call *ast.CallExpr) bool {
	return len(call.Args) == 2 && info.Types[call.Args[1]].IsNil()
}
