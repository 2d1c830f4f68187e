package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"

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

// checkShortCtx reports each call of WrapOnDone or WrapOnDoneCause in body,
// the body of the function called name, or of a helper of one result whose
// guard is made on its parameter's ctx (see [checker.ctxArg]), whose guard
// the function returns while a cancel it defers ends the guard's ctx: the
// guard fires as soon as the function returns. It reports only when that is certain: ctx is a
// local variable declared once, by the call of a cancelFuncs function whose
// cancel, also declared only there, is deferred by a statement of body
// itself; and a return statement after that defer returns the guard, the
// call itself or a local variable assigned only the call. A body with a
// goto, which may jump over the defer, is not checked.
func (c *checker) checkShortCtx(body *ast.BlockStmt, name string) {
	var calls []*ast.CallExpr
	var ctxs []ast.Expr // the ctx argument of each call
	var returns []*ast.ReturnStmt
	hasGoto := false
	inspectFunc(body, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.CallExpr:
			if ctx := c.ctxArg(n); ctx != nil {
				calls, ctxs = append(calls, n), append(ctxs, ctx)
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
		if d != nil && !c.ignored(call) && c.returnedAfter(body, assigned, call, d, returns) {
			c.pass.ReportRangef(call, msgShortCtx, name)
		}
	}
}

// ctxArg returns the argument that the guard call returns is made on as
// its ctx, or nil: call is a source of one result, a guard that may be
// non-nil, whose fact names that argument (WrapOnDone's ctx, or a
// helper's parameter passed on as WrapOnDone's ctx).
func (c *checker) ctxArg(call *ast.CallExpr) ast.Expr {
	src := c.sourceOf(call)
	if src == nil || src.n != 1 || len(src.ctxOf) != 1 || !c.argsAreParams(call) {
		return nil
	}
	if i := src.ctxOf[0]; i >= 0 && i < len(call.Args) {
		return call.Args[i]
	}
	return nil
}

// deferredCancel returns the defer statement of body that cancels ctx, if
// ctx is a local variable declared, and assigned, only as the first result
// of a cancelFuncs call, whose second result is a variable declared and
// assigned only there and deferred by a statement of body itself
// (`defer cancel()`, `defer cancel(err)`). It returns nil otherwise.
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
	var lhs, rhs []ast.Expr
	switch d := onlyDeclaration(info, assigned, v).(type) {
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
// returns call's guard: the call itself, or a local variable of body
// assigned nothing but the call.
func (c *checker) returnedAfter(body *ast.BlockStmt, assigned map[*types.Var][]ast.Node,
	call *ast.CallExpr, d *ast.DeferStmt, returns []*ast.ReturnStmt) bool {
	info := c.pass.TypesInfo
	for _, r := range returns {
		if r.Pos() < d.End() {
			continue
		}
		for _, e := range r.Results {
			e = ast.Unparen(e)
			if e == call {
				return true
			}
			id, ok := e.(*ast.Ident)
			if !ok {
				continue
			}
			if g, ok := info.Uses[id].(*types.Var); ok && within(body, g.Pos()) && assignedOnlyCall(info, assigned[g], g, call) {
				return true
			}
		}
	}
	return false
}

// assignedOnlyCall reports whether as, the assignments of g, are one
// assignment of call to g.
func assignedOnlyCall(info *types.Info, as []ast.Node, g *types.Var, call *ast.CallExpr) bool {
	if len(as) != 1 {
		return false
	}
	var lhs, rhs []ast.Expr
	switch d := as[0].(type) {
	case *ast.AssignStmt:
		lhs, rhs = d.Lhs, d.Rhs
	case *ast.ValueSpec:
		lhs, rhs = identExprs(d.Names), d.Values
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
