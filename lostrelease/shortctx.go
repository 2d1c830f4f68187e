package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"

	"golang.org/x/tools/go/types/typeutil"
)

const msgShortCtx = "the guard's ctx is cancelled by the deferred cancel when %s returns: it fires then"

// cancelFuncs are the functions of the context package whose first result
// is done when their second, a cancel function, is called.
var cancelFuncs = map[string]bool{
	"WithCancel": true, "WithCancelCause": true,
	"WithTimeout": true, "WithTimeoutCause": true,
	"WithDeadline": true, "WithDeadlineCause": true,
}

// checkShortCtx reports each call in body, the body of the function called
// name, of a source of one guard made on one of its arguments as its ctx
// (see [checker.ctxArg]: WrapOnDone, a Limiter's Acquire, or a helper of
// theirs), whose guard the function returns while a cancel it defers ends
// the guard's ctx: the guard fires as soon as the function returns. It
// reports only when that is certain: ctx is a local variable declared
// once, or a parameter assigned once before the call by a statement of
// body itself (see [checker.paramReassigned]), by the call of a
// cancelFuncs function whose cancel, declared only there, is deferred by
// a statement of body itself; and a return statement after that defer
// returns the guard, the call itself or a local variable assigned only
// the call's guard. A body with a goto, which may jump over the defer, is
// not checked.
func (c *checker) checkShortCtx(ft *ast.FuncType, body *ast.BlockStmt, name string) {
	var calls []*ast.CallExpr
	var ctxs []ast.Expr // the ctx argument of each call
	var guards []int    // the index of each call's guard result
	var returns []*ast.ReturnStmt
	hasGoto := false
	inspectFunc(body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallExpr:
			if ctx, g := c.ctxArg(n); ctx != nil {
				calls, ctxs, guards = append(calls, n), append(ctxs, ctx), append(guards, g)
			}
		case *ast.ReturnStmt:
			returns = append(returns, n)
		case *ast.BranchStmt:
			hasGoto = hasGoto || n.Tok == token.GOTO
		}
	})
	if len(calls) == 0 || hasGoto {
		return
	}
	assigned := assignmentsIn(c.pass.TypesInfo, body)
	for k, call := range calls {
		d := c.deferredCancel(body, assigned, ctxs[k])
		if d != nil && !c.ignored(call) && c.returnedAfter(body, c.namedResults(ft), assigned, call, guards[k], d, returns) {
			c.pass.ReportRangef(call, msgShortCtx, name)
		}
	}
}

// ctxArg returns the argument that the guard call returns is made on as
// its ctx, and the index of that guard among call's results, or nil: call
// is a source of one guard that may be non-nil, whose fact names that
// argument (WrapOnDone's ctx, a Limiter's, or a helper's parameter passed
// on as one of those).
func (c *checker) ctxArg(call *ast.CallExpr) (ast.Expr, int) {
	src := c.sourceOf(call)
	if src == nil || len(src.results) != 1 || len(src.ctxOf) != 1 || !c.argsAreParams(call) {
		return nil, 0
	}
	if i := src.ctxOf[0]; i >= 0 && i < len(call.Args) {
		return call.Args[i], src.results[0]
	}
	return nil, 0
}

// deferredCancel returns the defer statement of body that cancels ctx, if
// ctx is a local variable declared, and assigned, only as the first result
// of a cancelFuncs call, or a parameter assigned only so, by a statement
// of body itself before ctx is read (`ctx, cancel :=
// context.WithTimeout(ctx, d)`), whose second result is a variable
// declared and assigned only there and deferred by a statement of body
// itself (`defer cancel()`, `defer cancel(err)`). It returns nil
// otherwise.
func (c *checker) deferredCancel(body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, ctx ast.Expr) *ast.DeferStmt {
	info := c.pass.TypesInfo
	id, ok := ast.Unparen(ctx).(*ast.Ident)
	if !ok {
		return nil
	}
	v, ok := info.Uses[id].(*types.Var)
	if !ok {
		return nil
	}
	decl := onlyDeclaration(info, assigned, v)
	if decl == nil {
		decl = c.paramReassigned(body, assigned, v, id)
	}
	var lhs, rhs []ast.Expr
	switch d := decl.(type) {
	case *ast.AssignStmt:
		lhs, rhs = d.Lhs, d.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(d.Names), d.Values
	}
	if len(lhs) != 2 || len(rhs) != 1 || !isVar(info, lhs[0], v) || !c.isCancelFunc(rhs[0]) {
		return nil
	}
	cancelID, ok := lhs[1].(*ast.Ident)
	cancel, _ := info.Defs[cancelID].(*types.Var)
	if !ok || cancel == nil || onlyDeclaration(info, assigned, cancel) == nil {
		return nil
	}
	for _, s := range body.List {
		if d, ok := s.(*ast.DeferStmt); ok && isVar(info, d.Call.Fun, cancel) {
			return d
		}
	}
	return nil
}

// paramReassigned returns the one assignment of v in body, if v is a
// parameter of the function whose body is body and that assignment is a
// statement of body itself that ends before read: every path to read
// passes it, and nothing assigns v after it.
func (c *checker) paramReassigned(body *ast.BlockStmt, assigned map[*types.Var][]ast.Node, v *types.Var, read *ast.Ident) ast.Node {
	as := assigned[v]
	if len(as) != 1 || v.Pos() >= body.Pos() || v.Parent() == nil || v.Parent() != c.pass.Pkg.Scope().Innermost(body.Pos()) {
		return nil
	}
	s, ok := as[0].(*ast.AssignStmt)
	if !ok || s.End() > read.Pos() || !slices.Contains(body.List, ast.Stmt(s)) {
		return nil
	}
	return s
}

// isCancelFunc reports whether e is a call of one of cancelFuncs.
func (c *checker) isCancelFunc(e ast.Expr) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typeutil.StaticCallee(c.pass.TypesInfo, call)
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "context" && cancelFuncs[fn.Name()]
}

// returnedAfter reports whether a return statement of returns after d
// returns call's guard, its result guard: the call itself, or a variable
// of the function (a local, or a named result, returned bare too)
// assigned nothing but that result of the call, but for a declaration
// without a value.
func (c *checker) returnedAfter(body *ast.BlockStmt, named []*types.Var, assigned map[*types.Var][]ast.Node,
	call *ast.CallExpr, guard int, d *ast.DeferStmt, returns []*ast.ReturnStmt) bool {
	info := c.pass.TypesInfo
	holds := func(g *types.Var) bool {
		own := within(body, g.Pos()) || slices.Contains(named, g)
		return own && assignedOnlyCall(info, assigned[g], g, call, guard)
	}
	for _, r := range returns {
		if r.Pos() < d.End() {
			continue
		}
		if len(r.Results) == 0 && slices.ContainsFunc(named, holds) {
			return true
		}
		for _, e := range r.Results {
			e = ast.Unparen(e)
			if e == call {
				return true
			}
			if id, ok := e.(*ast.Ident); ok {
				if g, ok := info.Uses[id].(*types.Var); ok && holds(g) {
					return true
				}
			}
		}
	}
	return false
}

// namedResults returns the named results of a function of type ft.
func (c *checker) namedResults(ft *ast.FuncType) []*types.Var {
	var vs []*types.Var
	if ft.Results != nil {
		for _, f := range ft.Results.List {
			for _, name := range f.Names {
				if v, ok := c.pass.TypesInfo.Defs[name].(*types.Var); ok {
					vs = append(vs, v)
				}
			}
		}
	}
	return vs
}

// assignedOnlyCall reports whether as, the assignments of g, are one
// assignment of call, or of its result guard, to g.
func assignedOnlyCall(info *types.Info, as []ast.Node, g *types.Var, call *ast.CallExpr, guard int) bool {
	var lhs, rhs []ast.Expr
	switch d := onlyValueAssignment(as).(type) {
	case *ast.AssignStmt:
		lhs, rhs = d.Lhs, d.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(d.Names), d.Values
	}
	if len(rhs) == 1 && len(lhs) > 1 {
		return guard < len(lhs) && isVar(info, lhs[guard], g) && ast.Unparen(rhs[0]) == call
	}
	if len(lhs) != len(rhs) {
		return false
	}
	for i, e := range lhs {
		if isVar(info, e, g) && ast.Unparen(rhs[i]) == call {
			return true
		}
	}
	return false
}
