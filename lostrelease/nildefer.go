package lostrelease

import (
	"go/ast"
	"go/types"
)

const msgNilDefer = "%s is nil when %s fails: deferred before the call's result is checked, it panics then"

// checkNilDefer reports `defer rel()` of h's guard when it follows h's
// assignment in the same statement list with no statement between that
// reads a variable the call assigns: when the call fails the guard is nil,
// and a deferred call of a nil func panics as the function returns. It
// reports only calls documented to return a nil release on failure (see
// [checker.nilOnFailure]): a helper may return a no-op release instead;
// and only the call's own statement, not a copy of its guard made later.
// A call of a func variable between (a closure that may check the error)
// counts as a read.
func (c *checker) checkNilDefer(body *ast.BlockStmt, h *heldGuard) {
	if h.discarded || h.v == nil || !c.nilOnFailure(h.src.call) ||
		h.src.call.Pos() < h.assign.Pos() || h.src.call.End() > h.assign.End() {
		return
	}
	watched := make(map[*types.Var]bool)
	for _, e := range assignedExprs(h.assign) {
		if id, ok := ast.Unparen(e).(*ast.Ident); ok {
			if v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var); ok {
				watched[v] = true
			}
		}
	}
	list, at := statementList(body, h.assign)
	for _, s := range list[at+1:] {
		if d, ok := s.(*ast.DeferStmt); ok && len(d.Call.Args) == 0 && isVar(c.pass.TypesInfo, d.Call.Fun, h.v) {
			c.pass.Reportf(d.Pos(), msgNilDefer, h.v.Name(), h.src.name)
			return
		}
		if _, ok := s.(*ast.LabeledStmt); ok || c.reads(s, watched) || c.callsFuncVar(s) {
			return
		}
	}
}

// nilOnFailure reports whether call is documented to return a nil release
// whenever it fails: TryAcquire or Acquire of a slots.Limiter, of the
// Limiters of package slots and redisslot, and slots.AcquireWithin.
func (c *checker) nilOnFailure(call *ast.CallExpr) bool {
	_, fn, _ := c.guardCall(call)
	if fn == nil || fn.Pkg() == nil {
		return false
	}
	switch fn.Pkg().Path() {
	case slotsPkg, releasePkg + "/redisslot":
		return fn.Name() == "TryAcquire" || fn.Name() == "Acquire" || fn.Name() == "AcquireWithin"
	}
	return false
}

// reads reports whether n mentions one of vars.
func (c *checker) reads(n ast.Node, vars map[*types.Var]bool) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if id, ok := m.(*ast.Ident); ok {
			if v, ok := c.pass.TypesInfo.ObjectOf(id).(*types.Var); ok && vars[v] {
				found = true
			}
		}
		return !found
	})
	return found
}

// callsFuncVar reports whether n calls a func variable: a closure that may
// read anything.
func (c *checker) callsFuncVar(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if call, ok := m.(*ast.CallExpr); ok {
			if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
				_, found = c.pass.TypesInfo.Uses[id].(*types.Var)
			}
		}
		return !found
	})
	return found
}

// statementList returns the statement list of body that holds stmt (or
// the declaration holding it, for a *ast.ValueSpec), and its index there;
// nil if none does.
func statementList(body *ast.BlockStmt, stmt ast.Node) ([]ast.Stmt, int) {
	var list []ast.Stmt
	at := -1
	ast.Inspect(body, func(n ast.Node) bool {
		var l []ast.Stmt
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.BlockStmt:
			l = n.List
		case *ast.CaseClause:
			l = n.Body
		case *ast.CommClause:
			l = n.Body
		}
		for i, s := range l {
			if s == stmt {
				list, at = l, i
			}
		}
		return at < 0
	})
	return list, at
}
