// Package lostrelease defines an Analyzer that reports release functions,
// returned by [github.com/ctxguard/release.WrapOnDone], that are not used.
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
// The analyzer reports a call of WrapOnDone, whatever name the release
// package is imported under, whose result is discarded (a bare call, a go or
// defer of the call, or an assignment to _), or is held in a local variable
// that is not used on some path from the call to a return statement. Any
// use of the variable counts: calling it, deferring it, passing it on,
// returning it, storing it, or capturing it in a closure.
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
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/ctrlflow"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/cfg"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer reports release functions returned by WrapOnDone that are
// discarded, or not used on every path to a return statement.
var Analyzer = &analysis.Analyzer{
	Name:     "lostrelease",
	Doc:      "check that the release function returned by WrapOnDone is used\n\nA release that is never called holds its resource until the guard's context is done. lostrelease reports a WrapOnDone whose result is discarded, or held in a variable that is not used on some path to a return statement.",
	URL:      "https://pkg.go.dev/github.com/ctxguard/release/lostrelease",
	Requires: []*analysis.Analyzer{inspect.Analyzer, ctrlflow.Analyzer},
	Run:      run,
}

// releasePkg is the import path of the package that defines WrapOnDone.
const releasePkg = "github.com/ctxguard/release"

const (
	msgDiscarded = "the release function returned by WrapOnDone is discarded (the guarded resource leaks until ctx is done)"
	msgNotUsed   = "the release function returned by WrapOnDone is not used on all paths (the guarded resource leaks until ctx is done)"
	msgReturn    = "this return statement may be reached without using the release function %s defined on line %d"
)

func run(pass *analysis.Pass) (any, error) {
	if !imports(pass.Pkg, releasePkg) {
		return nil, nil
	}
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	cfgs := pass.ResultOf[ctrlflow.Analyzer].(*ctrlflow.CFGs)
	filter := []ast.Node{(*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)}
	insp.Preorder(filter, func(n ast.Node) {
		switch fn := n.(type) {
		case *ast.FuncDecl:
			if fn.Body != nil {
				checkFunc(pass, fn.Body, func() *cfg.CFG { return cfgs.FuncDecl(fn) })
			}
		case *ast.FuncLit:
			checkFunc(pass, fn.Body, func() *cfg.CFG { return cfgs.FuncLit(fn) })
		}
	})
	return nil, nil
}

// imports reports whether pkg imports path, directly.
func imports(pkg *types.Package, path string) bool {
	for _, imp := range pkg.Imports() {
		if imp.Path() == path {
			return true
		}
	}
	return false
}

// isWrapOnDone reports whether e is a call of release.WrapOnDone.
func isWrapOnDone(info *types.Info, e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typeutil.StaticCallee(info, call)
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == releasePkg && fn.Name() == "WrapOnDone"
}

// A held release is a WrapOnDone result assigned to a local variable.
type held struct {
	v    *types.Var
	stmt ast.Node // the *ast.AssignStmt or *ast.ValueSpec that assigns it
	call ast.Expr
}

// checkFunc checks the body of one function, leaving function literals
// within it to their own call.
func checkFunc(pass *analysis.Pass, body *ast.BlockStmt, graph func() *cfg.CFG) {
	var holds []held
	// assigned handles lhs = rhs within stmt.
	assigned := func(stmt ast.Node, lhs *ast.Ident, rhs ast.Expr) {
		if !isWrapOnDone(pass.TypesInfo, rhs) {
			return
		}
		if lhs.Name == "_" {
			pass.ReportRangef(rhs, msgDiscarded)
			return
		}
		v, ok := pass.TypesInfo.ObjectOf(lhs).(*types.Var)
		if !ok || v.Pos() < body.Pos() || v.Pos() >= body.End() {
			return // declared outside this function: the result escapes
		}
		holds = append(holds, held{v, stmt, rhs})
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ExprStmt:
			if isWrapOnDone(pass.TypesInfo, n.X) {
				pass.ReportRangef(n.X, msgDiscarded)
			}
		case *ast.GoStmt:
			if isWrapOnDone(pass.TypesInfo, n.Call) {
				pass.ReportRangef(n.Call, msgDiscarded)
			}
		case *ast.DeferStmt:
			if isWrapOnDone(pass.TypesInfo, n.Call) {
				pass.ReportRangef(n.Call, msgDiscarded)
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == len(n.Rhs) {
				for i, lhs := range n.Lhs {
					if id, ok := ast.Unparen(lhs).(*ast.Ident); ok {
						assigned(n, id, n.Rhs[i])
					}
				}
			}
		case *ast.ValueSpec:
			if len(n.Names) == len(n.Values) {
				for i, name := range n.Names {
					assigned(n, name, n.Values[i])
				}
			}
		}
		return true
	})
	if len(holds) == 0 {
		return
	}
	g := graph()
	for _, h := range holds {
		if ret := unusedPath(pass.TypesInfo, g, h); ret != nil {
			pass.ReportRangef(h.call, msgNotUsed)
			pass.Reportf(ret.Pos(), msgReturn, h.v.Name(), pass.Fset.Position(h.stmt.Pos()).Line)
		}
	}
}

// unusedPath returns a return statement that control can reach from h.stmt
// without using h.v, or nil if every path uses it.
func unusedPath(info *types.Info, g *cfg.CFG, h held) *ast.ReturnStmt {
	start, at := find(g, h.stmt)
	if start == nil {
		return nil // unreachable code
	}
	for _, n := range start.Nodes[at+1:] {
		if uses(info, h.v, n) {
			return nil
		}
	}
	if ret := start.Return(); ret != nil {
		return ret
	}
	seen := make(map[*cfg.Block]bool)
	var search func([]*cfg.Block) *ast.ReturnStmt
	search = func(blocks []*cfg.Block) *ast.ReturnStmt {
		for _, b := range blocks {
			if seen[b] {
				continue
			}
			seen[b] = true
			if blockUses(info, h.v, b) {
				continue
			}
			if ret := b.Return(); ret != nil {
				return ret
			}
			if ret := search(b.Succs); ret != nil {
				return ret
			}
		}
		return nil
	}
	return search(start.Succs)
}

// find returns the live block of g that holds stmt, and stmt's index in it.
func find(g *cfg.CFG, stmt ast.Node) (*cfg.Block, int) {
	for _, b := range g.Blocks {
		if !b.Live {
			continue
		}
		for i, n := range b.Nodes {
			if n == stmt {
				return b, i
			}
		}
	}
	return nil, 0
}

func blockUses(info *types.Info, v *types.Var, b *cfg.Block) bool {
	for _, n := range b.Nodes {
		if uses(info, v, n) {
			return true
		}
	}
	return false
}

// uses reports whether n refers to v anywhere, closures included.
func uses(info *types.Info, v *types.Var, n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && info.Uses[id] == v {
			found = true
		}
		return !found
	})
	return found
}
