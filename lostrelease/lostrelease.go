// Package lostrelease defines an Analyzer that reports release functions,
// returned by [github.com/ctxguard/release.WrapOnDone] or
// [github.com/ctxguard/release.WrapOnDoneCause] or by a helper that returns
// theirs, that are never used.
//
// # Analyzer lostrelease
//
// lostrelease: check that the release function returned by WrapOnDone is used
//
// A release guard frees its resource when its release function is called or
// when its context is done. A release that is never called holds the
// resource until the context is done: on a context that is never done,
// forever, and on a long-lived one, each forgotten guard stays registered
// until it ends.
//
// # Sources of guards
//
// A guard comes from a call of WrapOnDone or WrapOnDoneCause, whatever name
// the release package is imported under, or from a call of a helper: a
// function or method, in any package, that returns such a guard directly,
// through a local variable, or from another helper. The analyzer records
// each helper, and which of its results are guards, as a fact, so
// `_, err := acquire(ctx)` is checked like a discarded WrapOnDone, through
// any number of helpers and whatever the guard's position in the results.
// Reports on a helper's result name the helper.
//
// # What is reported
//
// A guard that is discarded: a bare call, a go or defer of the call, or an
// assignment to _. A guard held in a local variable that, on some path from
// the call, reaches a return statement without being used, or is
// overwritten before it is used. The report on the path points at the
// statement that leaks: the return, or the last break, continue or goto on
// the way to it or to the overwrite. A guard copied to another local
// variable (`held := rel`) is used by the copy, which is then checked in
// turn.
//
// # What counts as a use
//
// Any reference to the variable other than a comparison with nil or an
// assignment to it: calling it, deferring it, passing it on, returning it,
// storing it, assigning it to _ or capturing it in a closure. Handing the
// guard to a function counts as a use: the analyzer does not check what the
// callee does with it.
//
// # What is exempt
//
//   - Nil branches. On the branch of `rel == nil` or `rel != nil` where the
//     guard is nil there is nothing to leak, so `if rel != nil { defer rel() }`
//     is enough.
//
//   - Failure branches. When the helper's last result is an error or a bool,
//     the branch where it says the call failed is exempt, as long as that
//     variable is not assigned again since the call: `err != nil`,
//     `err == ErrX` or `errors.Is(err, ErrX)` for a sentinel error ErrX, and
//     `!ok`. So are the body of `if err != nil { return err }` and the code
//     after `if err == nil { return rel, nil }`. This assumes the convention
//     that a helper returns a nil guard when it fails.
//
//   - Conditions in if and for statements are read through !, && and ||:
//     `if err != nil || rel == nil { return err }` is exempt, while
//     `if err != nil || x { return err }` is not.
//
//   - Deferred closures registered first. A defer that refers to the
//     variable, directly or through a local func variable whose function
//     literal does, and that is registered before the assignment on every
//     path to it, uses the guard on every return. Overwriting the guard
//     before it is used is still reported.
//
//   - Constant loops. A loop that runs a constant number of times, at least
//     once (`for range 4`, `for i := 0; i < 3; i++` with i not assigned in
//     the body), runs its body: a use in the body counts unless a break,
//     continue or return comes before it.
//
//   - main.main, whose return ends the process. Discarded guards are still
//     reported there.
//
//   - A deliberate leak, marked with a comment on the call's line or the line
//     above:
//
//     //lostrelease:ignore <reason>
//
//     It silences every report for that guard. A comment without a reason is
//     itself reported.
//
// # Known limits
//
// Fields, globals and variables of an enclosing function are not tracked: a
// guard stored there is assumed to be used elsewhere. A helper that returns a
// closure wrapping a guard, a call through a method value or a func
// variable, and a call through an interface carry no fact, so their results
// are not checked. Conditions of switch statements are not read: a failure
// tested in a switch case is not seen as a failure branch.
//
// # Example
//
//	func handle(ctx context.Context, slots chan struct{}) error {
//		slots <- struct{}{}
//		free := release.WrapOnDone(ctx, func() { <-slots }) // reported
//		if err := step(); err != nil {
//			return err // reported: free is not used on this path
//		}
//		free()
//		return nil
//	}
package lostrelease

import (
	"fmt"
	"go/ast"
	"go/types"
	"slices"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer reports release functions returned by WrapOnDone,
// WrapOnDoneCause or a helper that returns theirs, that are discarded, not
// used on every path to a return statement, or overwritten before use. It
// exports a fact, shown as returnsGuard[i ...], for each helper, naming the
// indexes of the results that are guards.
var Analyzer = &analysis.Analyzer{
	Name: "lostrelease",
	Doc: "check that the release function returned by WrapOnDone is used\n\n" +
		"A release that is never called holds its resource until the guard's context is done. " +
		"lostrelease reports a guard, from WrapOnDone, WrapOnDoneCause or a helper that returns one, " +
		"that is discarded, or held in a variable that is not used on some path to a return statement.",
	URL:       "https://pkg.go.dev/github.com/ctxguard/release/lostrelease",
	Requires:  []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	FactTypes: []analysis.Fact{new(returnsGuard)},
	Run:       run,
}

// releasePkg is the import path of the package that defines WrapOnDone.
const releasePkg = "github.com/ctxguard/release"

// returnsGuard is the fact the analyzer exports for a function or method
// that returns a release guard. Its callers are checked as callers of
// WrapOnDone are.
type returnsGuard struct {
	// Results holds the indexes, ascending, of the results that are guards.
	Results []int
}

// AFact marks returnsGuard as an [analysis.Fact].
func (*returnsGuard) AFact() {}

// String returns "returnsGuard" and the guard results' indexes.
func (f *returnsGuard) String() string { return fmt.Sprintf("returnsGuard%v", f.Results) }

func run(pass *analysis.Pass) (any, error) {
	if !mayHoldGuards(pass) {
		return nil, nil
	}
	c := &checker{pass: pass, local: make(map[*types.Func][]int)}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	var decls []*ast.FuncDecl
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil)}, func(n ast.Node) {
		if fd := n.(*ast.FuncDecl); fd.Body != nil && fd.Name.Name != "_" {
			decls = append(decls, fd) // a function named _ cannot be called
		}
	})
	c.deriveFacts(decls)
	c.ignores = directives(pass)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	insp.Preorder([]ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}, func(n ast.Node) {
		switch fn := n.(type) {
		case *ast.FuncDecl:
			if fn.Body != nil {
				c.checkFunc(fn.Body, isMainMain(pass, fn), func() *cfg.CFG { return cfgs.FuncDecl(fn) })
			}
		case *ast.FuncLit:
			c.checkFunc(fn.Body, false, func() *cfg.CFG { return cfgs.FuncLit(fn) })
		}
	})
	return nil, nil
}

// mayHoldGuards reports whether the package can make or receive a guard:
// it is the release package, depends on it, or imports a function that
// returns a guard. The last test matters under go vet, where the imports of
// a dependency are only those its export data names, which may leave out
// the release package behind a helper.
func mayHoldGuards(pass *analysis.Pass) bool {
	if pass.Pkg.Path() == releasePkg || dependsOn(pass.Pkg, releasePkg) {
		return true
	}
	for _, f := range pass.AllObjectFacts() {
		if _, ok := f.Fact.(*returnsGuard); ok {
			return true
		}
	}
	return false
}

// dependsOn reports whether pkg imports path, directly or indirectly.
func dependsOn(pkg *types.Package, path string) bool {
	seen := make(map[*types.Package]bool)
	var walk func(*types.Package) bool
	walk = func(p *types.Package) bool {
		for _, imp := range p.Imports() {
			if imp.Path() == path {
				return true
			}
			if !seen[imp] {
				seen[imp] = true
				if walk(imp) {
					return true
				}
			}
		}
		return false
	}
	return walk(pkg)
}

// isMainMain reports whether fn is the main function of a main package.
func isMainMain(pass *analysis.Pass, fn *ast.FuncDecl) bool {
	return fn.Name.Name == "main" && fn.Recv == nil && pass.Pkg.Name() == "main"
}

// A checker holds what one pass knows about guard sources.
type checker struct {
	pass    *analysis.Pass
	local   map[*types.Func][]int // guard results of this package's helpers
	ignores map[lineKey]string    // ignore comments by line: their reasons
}

// A source is a call that returns one or more guards.
type source struct {
	call    *ast.CallExpr
	name    string // WrapOnDone, or the helper's name
	results []int  // indexes of the guard results
	n       int    // number of results
	sig     *types.Signature
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
		return nil
	}
	fn = fn.Origin()
	sig := fn.Signature()
	var results []int
	switch {
	case fn.Pkg() == nil:
		return nil
	case fn.Pkg().Path() == releasePkg && sig.Recv() == nil &&
		(fn.Name() == "WrapOnDone" || fn.Name() == "WrapOnDoneCause"):
		results = []int{0}
	case fn.Pkg() == c.pass.Pkg:
		results = c.local[fn]
	default:
		var f returnsGuard
		if c.pass.ImportObjectFact(fn, &f) {
			results = f.Results
		}
	}
	if len(results) == 0 || sig.Results().Len() <= results[len(results)-1] {
		return nil
	}
	return &source{call: call, name: funcName(fn), results: results, n: sig.Results().Len(), sig: sig}
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

// deriveFacts finds this package's helpers, following helpers that call one
// another until nothing changes, and exports a fact for each.
func (c *checker) deriveFacts(decls []*ast.FuncDecl) {
	for changed := true; changed; {
		changed = false
		for _, fd := range decls {
			fn, ok := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
			if !ok {
				continue
			}
			if r := c.guardResults(fd, fn.Signature()); !slices.Equal(r, c.local[fn]) {
				c.local[fn] = r
				changed = true
			}
		}
	}
	for _, fd := range decls {
		fn, _ := c.pass.TypesInfo.Defs[fd.Name].(*types.Func)
		if r := c.local[fn]; fn != nil && len(r) > 0 {
			c.pass.ExportObjectFact(fn, &returnsGuard{Results: r})
		}
	}
}

// guardResults returns the indexes of fd's results that return a guard on
// some return statement: a source, or a variable assigned from one.
func (c *checker) guardResults(fd *ast.FuncDecl, sig *types.Signature) []int {
	n := sig.Results().Len()
	if n == 0 {
		return nil
	}
	info := c.pass.TypesInfo
	guards := make(map[*types.Var]bool) // variables assigned a guard
	var returns []*ast.ReturnStmt
	ast.Inspect(fd.Body, func(node ast.Node) bool {
		switch node := node.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			returns = append(returns, node)
		case *ast.AssignStmt:
			c.eachGuard(node.Lhs, node.Rhs, func(lhs ast.Expr, _ *source) {
				if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
					if v, ok := info.ObjectOf(id).(*types.Var); ok {
						guards[v] = true
					}
				}
			})
		case *ast.ValueSpec:
			c.eachGuard(identExprs(node.Names), node.Values, func(lhs ast.Expr, _ *source) {
				if v, ok := info.ObjectOf(lhs.(*ast.Ident)).(*types.Var); ok {
					guards[v] = true
				}
			})
		}
		return true
	})
	is := make([]bool, n)
	for i := range n {
		if guards[sig.Results().At(i)] {
			is[i] = true // a named result holds a guard
		}
	}
	for _, ret := range returns {
		switch {
		case len(ret.Results) == n:
			for i, e := range ret.Results {
				if src := c.sourceOf(e); src != nil && src.n == 1 {
					is[i] = true
				} else if id, ok := ast.Unparen(e).(*ast.Ident); ok {
					if v, ok := info.Uses[id].(*types.Var); ok && guards[v] {
						is[i] = true
					}
				}
			}
		case len(ret.Results) == 1 && n > 1:
			if src := c.sourceOf(ret.Results[0]); src != nil && src.n == n {
				for _, i := range src.results {
					is[i] = true
				}
			}
		}
	}
	var r []int
	for i, ok := range is {
		if _, isFunc := sig.Results().At(i).Type().Underlying().(*types.Signature); ok && isFunc {
			r = append(r, i)
		}
	}
	return r
}

// eachGuard calls f for each left-hand side of lhs = rhs that receives a
// guard, with the guard's source.
func (c *checker) eachGuard(lhs, rhs []ast.Expr, f func(lhs ast.Expr, src *source)) {
	switch {
	case len(lhs) == len(rhs):
		for i, e := range rhs {
			if src := c.sourceOf(e); src != nil && src.n == 1 {
				f(lhs[i], src)
			}
		}
	case len(rhs) == 1:
		if src := c.sourceOf(rhs[0]); src != nil && src.n == len(lhs) {
			for _, i := range src.results {
				f(lhs[i], src)
			}
		}
	}
}

func identExprs(ids []*ast.Ident) []ast.Expr {
	es := make([]ast.Expr, len(ids))
	for i, id := range ids {
		es[i] = id
	}
	return es
}
