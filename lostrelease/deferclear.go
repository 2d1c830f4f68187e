package lostrelease

import (
	"go/ast"
	"go/token"
	"go/types"
)

// clearedWhile returns the values that named result s holds whenever
// named result g, a guard, may be non-nil once the helper has returned,
// when a deferred closure frees g and sets it to nil under a condition on
// s (see [clearingDefer]): g may be non-nil after it only where the
// condition was false, so s holds a value that leaves it false. It
// reports false if the helper has no such closure or the condition does
// not leave s a known set of values.
func (c *checker) clearedWhile(hb *helperBody, g, s *types.Var) (map[string]bool, bool) {
	cond := clearingDefer(c.pass.TypesInfo, hb, g, s)
	if cond == nil {
		return nil, false
	}
	ps := newPathSearch(c.pass.TypesInfo, hb.body, hb.returned.graph())
	ps.predicateOf = c.predicateOf
	vc, ok := ps.falseWhileNonNil(&status{v: s}, g, cond)
	if !ok || !vc.in {
		return nil, false
	}
	return vc.set, true
}

// falseWhileNonNil returns what cond being false says of s's variable,
// where g is not nil: a conjunct `g != nil` of cond then holds.
func (ps *pathSearch) falseWhileNonNil(s *status, g *types.Var, cond ast.Expr) (valueConstraint, bool) {
	e, ok := ast.Unparen(cond).(*ast.BinaryExpr)
	switch {
	case ok && e.Op == token.NEQ && nilCompared(ps.info, e) != nil && ps.info.Uses[nilCompared(ps.info, e)] == g:
		return valueConstraint{in: true, set: map[string]bool{}}, true // never false
	case ok && e.Op == token.LAND:
		cx, okx := ps.falseWhileNonNil(s, g, e.X)
		cy, oky := ps.falseWhileNonNil(s, g, e.Y)
		if !okx || !oky {
			return valueConstraint{}, false
		}
		return combine(cx, cy, false), true // false where either is
	}
	return ps.constraint(s, cond, false, 0)
}

// clearingDefer returns the condition of the helper's deferred closure
// that frees named result g and sets it to nil, if the closure runs
// after every return and nothing else changes g or s aside: it is the
// helper's one defer, a statement of its body (with no goto) before every
// return, `defer func() { if cond { ...; g = nil } }()`, with no return in
// the if and `g = nil` one of its statements; no function literal
// assigns s, nor g but for that closure's nils, and neither's address is
// taken. The condition may read only s and g of the variables. A panic
// recovered by another defer could return g before the closure is
// deferred: with one defer, none is.
func clearingDefer(info *types.Info, hb *helperBody, g, s *types.Var) ast.Expr {
	var defers []*ast.DeferStmt
	inspectFunc(hb.body, func(n ast.Node) {
		if d, ok := n.(*ast.DeferStmt); ok {
			defers = append(defers, d)
		}
	})
	if len(defers) != 1 || hasGoto(hb.body) || !isBodyStmt(hb.body, defers[0]) {
		return nil
	}
	lit, ok := ast.Unparen(defers[0].Call.Fun).(*ast.FuncLit)
	if !ok || len(defers[0].Call.Args) != 0 || len(lit.Body.List) != 1 {
		return nil
	}
	ifs, ok := lit.Body.List[0].(*ast.IfStmt)
	if !ok || ifs.Init != nil || ifs.Else != nil || !clears(info, ifs.Body, g) {
		return nil
	}
	for _, ret := range hb.returns {
		if ret.Pos() < defers[0].Pos() {
			return nil
		}
	}
	if !onlyNilsIn(info, hb, lit, g) || changedAside(hb.body, hb.assigned, s) || !readsOnly(info, ifs.Cond, g, s) {
		return nil
	}
	return ifs.Cond
}

// isBodyStmt reports whether stmt is one of body's own statements.
func isBodyStmt(body *ast.BlockStmt, stmt ast.Stmt) bool {
	for _, st := range body.List {
		if st == stmt {
			return true
		}
	}
	return false
}

// clears reports whether block, which has no return nor goto, has
// `g = nil` among its own statements.
func clears(info *types.Info, block *ast.BlockStmt, g *types.Var) bool {
	jumps := false
	inspectFunc(block, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.ReturnStmt:
			jumps = true
		case *ast.BranchStmt:
			jumps = jumps || n.Tok == token.GOTO
		}
	})
	if jumps {
		return false
	}
	for _, st := range block.List {
		a, ok := st.(*ast.AssignStmt)
		if ok && a.Tok == token.ASSIGN && len(a.Lhs) == 1 && len(a.Rhs) == 1 &&
			isVar(info, a.Lhs[0], g) && info.Types[a.Rhs[0]].IsNil() {
			return true
		}
	}
	return false
}

// onlyNilsIn reports whether every change of g that the paths of the
// helper's body do not see is an assignment of nil in lit.
func onlyNilsIn(info *types.Info, hb *helperBody, lit *ast.FuncLit, g *types.Var) bool {
	for _, n := range hb.assigned[g] {
		switch n.(type) {
		case *ast.UnaryExpr, *ast.SelectorExpr:
			return false
		}
		if !inFuncLit(hb.body, n) {
			continue
		}
		if k, ok := assignedKey(info, g, n); !within(lit, n.Pos()) || !ok || k != "nil" {
			return false
		}
	}
	return true
}

// readsOnly reports whether the only variables e reads are g and s.
func readsOnly(info *types.Info, e ast.Expr, g, s *types.Var) bool {
	only := true
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := info.Uses[id].(*types.Var); ok && v != g && v != s {
				only = false
			}
		}
		return only
	})
	return only
}
